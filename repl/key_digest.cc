#include "repl/key_digest.h"

#include <string>

#include "base/coding.h"
#include "base/hash.h"
#include "repl/value_format.h"

namespace kvring::repl {

namespace {

// Distinguishes the digest of a value that did not decode from every real one.
constexpr uint64_t kUndecodableSeed = 0x6b76726e67616165ull;

}  // namespace

bool KeyDigest(const SiblingSet& set, uint64_t* digest) {
  if (set.IsDeleted()) return false;
  std::string bytes;
  for (const Sibling& s : set.siblings()) {
    base::PutLengthPrefixed(&bytes, s.dot.node);
    base::PutVarint64(&bytes, s.dot.counter);
    bytes.push_back(s.tombstone ? 1 : 0);
  }
  *digest = base::Hash64(bytes);
  return true;
}

bool StoredValueDigest(std::string_view, std::string_view value, uint64_t* digest) {
  base::Result<SiblingSet> set = DecodeSiblingSet(value);
  if (!set.ok()) {
    *digest = base::Hash64(value, kUndecodableSeed);
    return true;
  }
  return KeyDigest(*set, digest);
}

}  // namespace kvring::repl
