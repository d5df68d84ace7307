// test/fuzz/repair_state.cc — libFuzzer target: DATA/repair, a repair job's
// saved progress (repl/repair_state.h, docs/formats/repair.md), as a restarted
// node reads it back to resume the job.
// Invariant: an accepted state re-encodes to bytes that decode equal and are a
// fixed point; a refusal is Corruption with a message.
#include <string>

#include "repl/repair_state.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  repl::RepairJobState state;
  base::Status s = repl::DecodeRepairJobState(fuzz::Bytes(data, size), &state);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption() && !s.message().empty());
    return 0;
  }
  const std::string bytes = repl::EncodeRepairJobState(state);
  repl::RepairJobState again;
  FUZZ_CHECK(repl::DecodeRepairJobState(bytes, &again).ok() && again == state);
  FUZZ_CHECK(repl::EncodeRepairJobState(again) == bytes);
  return 0;
}
