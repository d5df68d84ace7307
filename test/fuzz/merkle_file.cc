// test/fuzz/merkle_file.cc — libFuzzer target: the engine's MERKLE file
// (lsm/merkle_index.h, docs/formats/merkle.md), as DB::Open reads it back. The
// first input byte picks the leaf bits the reader expects (0..8: small indexes
// keep the target fast), the rest is the file.
// Invariant: an accepted file re-encodes (with the state it was written
// against) to bytes that decode to the same index and are a fixed point; a
// refusal is Corruption or InvalidArgument with a message, never a crash or an
// allocation the file's size does not justify.
#include <string>

#include "lsm/merkle_index.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

void Fuzz(uint8_t selector, std::string_view file) {
  const int leaf_bits = selector % 9;
  lsm::MerkleIndex index(leaf_bits, {});
  lsm::MerkleIndex::FileState state;
  base::Status s = index.Decode(file, leaf_bits, &state);
  if (!s.ok()) {
    FUZZ_CHECK((s.IsCorruption() || s.IsInvalidArgument()) && !s.message().empty());
    return;
  }
  FUZZ_CHECK(index.leaf_bits() == leaf_bits && index.num_leaves() >= (size_t{1} << leaf_bits));
  const std::string once = index.Encode(state);
  lsm::MerkleIndex again(leaf_bits, {});
  lsm::MerkleIndex::FileState state_again;
  FUZZ_CHECK(again.Decode(once, leaf_bits, &state_again).ok());
  FUZZ_CHECK(state_again.log_number == state.log_number && state_again.sequence == state.sequence);
  FUZZ_CHECK(again.num_leaves() == index.num_leaves() && again.dirty_leaves() == index.dirty_leaves());
  FUZZ_CHECK(again.Encode(state_again) == once);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
