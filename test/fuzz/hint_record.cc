// test/fuzz/hint_record.cc — libFuzzer target: a hint's engine key and value
// (repl/hint_record.h, docs/formats/hints.md), as hinted handoff reads them back
// from DATA/hints. The first input byte picks key (odd) or value (even).
// Invariants: an accepted record keeps first_us <= last_us and seq >= 1 and
// round-trips exactly; a key that splits re-joins to the same bytes.
#include <string>

#include "repl/hint_record.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

void Record(std::string_view bytes) {
  auto decoded = repl::DecodeHintRecord(bytes);
  if (!decoded.ok()) {
    FUZZ_CHECK(!decoded.status().message().empty());
    return;
  }
  FUZZ_CHECK(decoded->first_us <= decoded->last_us && decoded->seq >= 1);
  std::string again;
  repl::EncodeHintRecord(*decoded, &again);
  auto back = repl::DecodeHintRecord(again);
  FUZZ_CHECK(back.ok() && *back == *decoded);
}

void Key(std::string_view bytes) {
  std::string_view owner, key;
  if (!repl::SplitHintKey(bytes, &owner, &key)) return;
  FUZZ_CHECK(repl::ValidateHintOwner(owner).ok());
  FUZZ_CHECK(repl::HintKey(owner, key) == bytes);
  FUZZ_CHECK(repl::QuoteHintBytes(key).size() <= 4 * 64 + 8);
}

void Fuzz(uint8_t selector, std::string_view input) {
  if (selector % 2 == 1) Key(input);
  else Record(input);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
