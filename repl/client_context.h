// repl/client_context.h — the opaque context a get hands to clients and a put or
// delete hands back: the key's causal history (a VersionVector) as bytes a client
// cannot forge. Format (docs/formats/value.md, "client context"):
//   context := version:u8 vector mac:16 bytes
// where mac is the first 16 bytes of HMAC-SHA256 under the cluster's context key
// of the user key (length-prefixed), the version byte and the vector: a context is
// good for the key it was read from only (another key's history would supersede
// versions of this key its writer never saw). A forged context (counters a client made up,
// say at 2^64-1, which would leave the key unwritable for ever) or a damaged one
// fails the MAC and changes nothing. The key material is the cluster secret when
// one is configured, else the cluster name (the MAC then catches damage and
// contexts of another cluster, not a client that knows the derivation;
// docs/formats/value.md).
// On-wire values: never renumber kClientContextVersion.
// Thread safety: ContextKey is an immutable value; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/version_vector.h"

namespace kvring::repl {

constexpr uint8_t kClientContextVersion = 2;  // 1 carried a CRC instead of a MAC: refused
constexpr size_t kContextMacBytes = 16;
// A history names at most a few hundred actors (nodes and their epochs, pruned by
// VersioningOptions): 64 KiB is far past any real context and bounds what a node
// parses and merges for one client.
constexpr size_t kMaxClientContextBytes = 64 << 10;

// The key contexts are sealed with: HMAC-SHA256(key_material, "kvring client
// context v2"). Every node of a cluster must derive the same one.
class ContextKey {
 public:
  // key_material: the cluster secret; without one, the cluster name.
  explicit ContextKey(std::string_view key_material);
  // The key of a cluster named "kvring" without a secret (tests, tools).
  static const ContextKey& Default();
  const std::string& bytes() const { return key_; }

 private:
  std::string key_;
};

// Appends the context of user key `key` for `history` (entry times included, so pruning ages
// survive the round trip through a client). Never empty, even for an empty
// history: an empty byte string means "no context" (the writer saw nothing).
void EncodeClientContext(const ContextKey& mac_key, std::string_view key, const VersionVector& history,
                         std::string* dst);
std::string EncodeClientContext(const ContextKey& mac_key, std::string_view key, const VersionVector& history);

// Parses context bytes a client sent with a write of `key`. InvalidArgument, naming what is wrong, on
// empty, oversized, truncated, forged, damaged or another key's (MAC),
// unknown-version or malformed input.
// The caller handles an absent context before calling this.
[[nodiscard]] base::Result<VersionVector> DecodeClientContext(const ContextKey& mac_key, std::string_view key,
                                                              std::string_view bytes);

}  // namespace kvring::repl
