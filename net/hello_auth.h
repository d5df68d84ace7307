// net/hello_auth.h — the cluster handshake's cryptography (docs/protocol.md,
// section 6.1): a node proves it holds the cluster secret, and learns that the
// server does, without the secret crossing the wire. A mutual challenge-response
// with HMAC-SHA256 (OpenSSL, base/crypto.h):
//
//   client -> HELLO        version, role node, cluster, id, client_nonce
//   server -> HELLO reply  version, server_nonce, server_proof   (no cluster, no node id)
//   client -> AUTH         client_proof                          (after checking server_proof)
//   server -> AUTH reply   cluster, node_id                      (the connection is authenticated)
//
//   proof(side) := HMAC-SHA256(secret.key, label(side) || lp(cluster) || lp(client_id)
//                              || client_nonce || server_nonce)
//
// The labels differ per side, so a proof the server sent cannot be reflected back
// as the client's; fresh nonces on both sides make every proof single-use.
// Thread safety: ClusterSecret is an immutable value; the functions are pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/protocol.h"

namespace kvring::net {

constexpr size_t kHelloNonceBytes = 16;
constexpr size_t kHelloProofBytes = 32;
constexpr size_t kMinSecretBytes = 16;

// The cluster secret, as the file holds it (every node of a cluster has the same
// file). key() is what proofs are computed with: HMAC-SHA256(material,
// "kvring cluster secret v1"), so the raw material is used for nothing else.
class ClusterSecret {
 public:
  // Reads `path`: the secret is its content without trailing whitespace, at
  // least kMinSecretBytes long. Refused (InvalidArgument, naming the file and
  // the fix) when it is shorter, or readable or writable by group or others.
  [[nodiscard]] static base::Result<ClusterSecret> FromFile(const std::string& path);
  // REQUIRES: material.size() >= kMinSecretBytes (tests, tools).
  static ClusterSecret FromMaterial(std::string_view material);

  const std::string& key() const { return key_; }
  // Key material for other keys derived from the secret (client contexts).
  const std::string& material() const { return material_; }

 private:
  ClusterSecret() = default;
  std::string material_;
  std::string key_;
};

// The content of a file only its owner may read: at most max_bytes, refused
// (InvalidArgument "WHAT PATH: ...") when group or others may read or write it.
[[nodiscard]] base::Result<std::string> ReadPrivateFile(const std::string& path, size_t max_bytes,
                                                        const std::string& what);

enum class HelloSide { kServer, kClient };

// kHelloNonceBytes from the system's cryptographic random source.
std::string HelloNonce();

// The proof `side` sends for a handshake of client `client_id` to `cluster`.
std::string HelloProof(const ClusterSecret& secret, HelloSide side, std::string_view cluster,
                       std::string_view client_id, std::string_view client_nonce, std::string_view server_nonce);

// Whether `proof` is the one `side` must send, compared in constant time.
bool CheckHelloProof(const ClusterSecret& secret, HelloSide side, std::string_view cluster,
                     std::string_view client_id, std::string_view client_nonce, std::string_view server_nonce,
                     std::string_view proof);

// The client's side, after the HELLO reply (both clients use it). `secret` is
// null for a peer without one. OK with *auth_body empty: the connection is ready;
// OK with it set: send AUTH with that body and wait for its reply.
// PermissionDenied when the server challenged a peer without a secret, did not
// challenge a peer with one (it holds no secret: talking to it would let anyone
// pose as a node), or its proof is wrong; Corruption for a malformed challenge.
[[nodiscard]] base::Status AnswerChallenge(const ClusterSecret* secret, std::string_view cluster,
                                           std::string_view client_id, std::string_view client_nonce,
                                           std::string_view challenge, std::string_view server,
                                           std::string* auth_body);

}  // namespace kvring::net
