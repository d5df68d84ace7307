// test/fuzz/node_state.cc — libFuzzer target: DATA/node_state
// (repl/node_state.h, docs/formats/node_state.md).
// Invariant: an accepted state re-encodes to bytes that decode equal and are a
// fixed point; a refusal is Corruption or NotSupported with a message.
#include <string>

#include "repl/node_state.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  auto decoded = repl::DecodeNodeState(fuzz::Bytes(data, size));
  if (!decoded.ok()) {
    auto code = decoded.status().code();
    FUZZ_CHECK(code == base::Status::Code::kCorruption || code == base::Status::Code::kNotSupported);
    FUZZ_CHECK(!decoded.status().message().empty());
    return 0;
  }
  std::string bytes;
  repl::EncodeNodeState(*decoded, &bytes);
  auto again = repl::DecodeNodeState(bytes);
  FUZZ_CHECK(again.ok() && *again == *decoded);
  std::string twice;
  repl::EncodeNodeState(*again, &twice);
  FUZZ_CHECK(twice == bytes);
  return 0;
}
