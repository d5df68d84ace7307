// net/client_auth.h — client authentication in HELLO (docs/protocol.md, section
// 6.2; docs/security.md): users with roles, stored as salted verifiers, and a
// challenge-response after SCRAM (RFC 5802/7677) that proves the password without
// sending it and lets the client check that the server holds the user's verifier:
//
//   client -> HELLO        version, role client, cluster, id, client_nonce, user
//   server -> HELLO reply  version, challenge := server_nonce || salt || iterations  (no cluster, no node id)
//   client -> AUTH         proof := ClientKey XOR HMAC(StoredKey, message)
//   server -> AUTH reply   cluster, node_id, server_signature := HMAC(ServerKey, message)
//
//   SaltedPassword := PBKDF2-HMAC-SHA256(password, salt, iterations)
//   ClientKey := HMAC(SaltedPassword, "Client Key")   StoredKey := SHA-256(ClientKey)
//   ServerKey := HMAC(SaltedPassword, "Server Key")
//   message := "kvring client auth v1" || lp(cluster) || lp(user) || client_nonce || challenge
//
// The users file keeps only salt, iterations, StoredKey and ServerKey: stealing it
// does not give a password that logs in (the verifier cannot be replayed as a
// proof), fresh nonces make every proof single-use. An unknown user is answered
// with a salt derived from the name, so the challenge does not tell who exists.
// Thread safety: UserTable is immutable once loaded; the functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvring::net {

// What an authenticated connection may do (node/client_access.h says which opcode needs which).
enum class Access : uint8_t { kRead = 1, kReadWrite = 2, kAdmin = 3 };
// "read", "read-write", "admin".
std::string_view AccessName(Access access);
bool ParseAccess(std::string_view text, Access* access);

constexpr size_t kClientSaltBytes = 16;
constexpr uint32_t kDefaultAuthIterations = 4096;  // RFC 7677's minimum for SCRAM-SHA-256
constexpr size_t kMaxUserNameBytes = 64;

// 1 to kMaxUserNameBytes of A-Z a-z 0-9 _ - . @
bool ValidUserName(std::string_view name);

// One user's line of the users file.
struct UserRecord {
  std::string name;
  Access access = Access::kRead;
  uint32_t iterations = kDefaultAuthIterations;
  std::string salt, stored_key, server_key;  // raw bytes
};

// The users line for `name` with a fresh salt (kvctl hash-password prints it):
// "NAME ROLE ITERATIONS SALT STORED_KEY SERVER_KEY", the last three in hex.
std::string MakeUserLine(std::string_view name, Access access, std::string_view password,
                         uint32_t iterations = kDefaultAuthIterations);

// The users of a node (--users-file), read once at start.
class UserTable {
 public:
  // Blank lines and lines starting with '#' are skipped. Refused (InvalidArgument
  // naming the file, the line and the fix) for a malformed line, a duplicate user,
  // or a file group or others may read or write.
  [[nodiscard]] static base::Result<UserTable> FromFile(const std::string& path);
  [[nodiscard]] static base::Result<UserTable> Parse(std::string_view text, const std::string& name);

  const UserRecord* Find(std::string_view user) const;
  // What an unknown user's proof is checked against, so that it costs the same.
  const UserRecord& decoy() const { return decoy_; }
  size_t size() const { return users_.size(); }
  // The challenge for `user` (a made-up salt when there is no such user).
  std::string Challenge(std::string_view user, std::string_view server_nonce) const;

 private:
  UserTable() = default;
  std::map<std::string, UserRecord, std::less<>> users_;
  std::string decoy_key_;  // salts of unknown users: HMAC(decoy_key_, name)
  UserRecord decoy_;       // random keys: never matches
};

// The server's check of an AUTH proof. OK: *access is the user's role and
// *server_signature what the AUTH reply carries. PermissionDenied otherwise (the
// same message, and the same work, for an unknown user and a wrong password).
[[nodiscard]] base::Status VerifyClientProof(const UserTable& users, std::string_view cluster, std::string_view user,
                                             std::string_view client_nonce, std::string_view challenge,
                                             std::string_view proof, Access* access, std::string* server_signature);

// A client's credentials (kvctl, kvbench): from --credentials FILE ("USER:PASSWORD")
// or KVRING_USER and KVRING_PASSWORD, never from the command line.
struct ClientCredentials {
  std::string user;
  std::string password;
  bool empty() const { return user.empty(); }
};
// `file` empty: the environment; neither set: empty credentials (no authentication).
[[nodiscard]] base::Result<ClientCredentials> LoadClientCredentials(const std::string& file);

// The client's side of the HELLO reply. `credentials` null or empty: OK when the
// server did not challenge. With a challenge: *auth_body is the AUTH to send and
// *expected_signature what the AUTH reply must carry (CheckServerSignature).
[[nodiscard]] base::Status AnswerClientChallenge(const ClientCredentials* credentials, std::string_view cluster,
                                                 std::string_view client_nonce, std::string_view challenge,
                                                 std::string_view server, std::string* auth_body,
                                                 std::string* expected_signature);
[[nodiscard]] base::Status CheckServerSignature(std::string_view expected, std::string_view got,
                                                std::string_view server);

}  // namespace kvring::net
