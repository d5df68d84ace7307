// test/fuzz/version_edit.cc — libFuzzer target: one manifest record, a
// VersionEdit (lsm/version_edit.h, docs/formats/manifest.md).
// Invariants: an accepted edit re-encodes to bytes that decode to an edit with
// the same encoding (nothing the decoder keeps is lost by the encoder); a
// refusal is a Corruption with a message.
#include <string>

#include "lsm/version_edit.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  lsm::VersionEdit edit;
  base::Status s = edit.DecodeFrom(fuzz::Bytes(data, size));
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption() && !s.message().empty());
    return 0;
  }
  std::string once;
  edit.EncodeTo(&once);
  lsm::VersionEdit again;
  FUZZ_CHECK(again.DecodeFrom(once).ok());
  std::string twice;
  again.EncodeTo(&twice);
  FUZZ_CHECK(twice == once);
  FUZZ_CHECK(again.DebugString() == edit.DebugString());
  return 0;
}
