// test/fuzz/sibling_set.cc — libFuzzer target: the stored value format, i.e. an
// encoded sibling set (repl/value_format.h, docs/formats/value.md), as a replica
// reads it back from its engine or a REPLICA_WRITE brings it.
// Invariants: an accepted set passes the structural invariants FromParts checks
// (the decoder's contract: not the quadratic "no sibling is obsolete", which
// only the writers keep; docs/reliability.md, "Fuzzing"), re-encodes to bytes
// that decode to an equal set, merging it with itself changes nothing, and a
// blind put over it leaves one sibling and every invariant.
#include <string>

#include "repl/value_format.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  auto decoded = repl::DecodeSiblingSet(fuzz::Bytes(data, size));
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().IsCorruption() || decoded.status().code() == base::Status::Code::kNotSupported);
    return 0;
  }
  const repl::SiblingSet& set = *decoded;
  FUZZ_CHECK(repl::SiblingSet::FromParts(set.history(), set.siblings()).ok());
  std::string bytes = repl::EncodeSiblingSet(set);
  auto again = repl::DecodeSiblingSet(bytes);
  FUZZ_CHECK(again.ok() && *again == set);
  FUZZ_CHECK(repl::EncodeSiblingSet(*again) == bytes);
  FUZZ_CHECK(repl::SiblingSet::Merge(set, set) == set);
  repl::SiblingSet written = set;
  auto put = written.Put("fuzz", set.history(), "v", 1'800'000'000'000'000, repl::VersioningOptions());
  if (put.ok()) FUZZ_CHECK(written.siblings().size() == 1 && written.CheckInvariants().ok());
  return 0;
}
