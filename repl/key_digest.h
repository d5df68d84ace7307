// repl/key_digest.h — the digest of one key's sibling set that anti-entropy
// compares (the engine's Merkle index hashes (key, digest) of every indexed entry:
// lsm::MerkleOptions::digest).
//
//   digest := Hash64 over, for each sibling in dot order:
//             dot_node:lp dot_counter:varint64 tombstone:u8
//
// Only what names a version: the siblings' dots (a dot fixes its value, context
// and timestamp) and whether each is a delete. Not the history: replicas prune
// histories differently, and that is no difference worth repairing. A set whose
// siblings are all tombstones (or that has none) has no digest: it is left out of
// the index, so absent and deleted read the same; a replica that still holds a
// live value a tombstone covers has a digest for it, so an exchange still finds
// the key and the merge lets the tombstone win.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "repl/sibling_set.h"

namespace kvring::repl {

// False (no digest: leave the key out of the index) when every sibling is a
// tombstone or there is none.
bool KeyDigest(const SiblingSet& set, uint64_t* digest);

// The same over an engine entry (StorageKey -> encoded SiblingSet): the callback
// kvnode gives the engine. A value that does not decode is indexed with the hash
// of its bytes, so a damaged replica differs from its peers instead of hiding.
bool StoredValueDigest(std::string_view storage_key, std::string_view value, uint64_t* digest);

}  // namespace kvring::repl
