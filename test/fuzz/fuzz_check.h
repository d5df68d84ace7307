// test/fuzz/fuzz_check.h — what every libFuzzer target in test/fuzz/ shares: the
// check that aborts (so libFuzzer records the input as a crash) when a decoder
// breaks an invariant, the entry point of a target whose first input byte selects
// what it decodes, and the prefix check of incremental parsers.
// Thread safety: pure functions (libFuzzer runs a target on one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Aborts with the failed condition and where, whatever the build type (NDEBUG
// or not): a fuzz target's checks are its point.
#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

namespace kvring::fuzz {

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Takes the first byte of *input as a selector (0 when empty).
inline uint8_t TakeSelector(std::string_view* input) {
  if (input->empty()) return 0;
  uint8_t s = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  return s;
}

// Checks that every proper prefix of a `consumed`-byte unit at `data` is
// incomplete for an incremental parser: needs_more(data, n) is true.
template <typename NeedsMore>
void CheckPrefixesNeedMore(const char* data, size_t consumed, NeedsMore needs_more) {
  for (size_t cut : {size_t{0}, size_t{1}, size_t{3}, consumed / 2, consumed - 1}) {
    if (cut < consumed) FUZZ_CHECK(needs_more(data, cut));
  }
}

// Walks a stream of units (frames, replies) the way a connection's read buffer
// is parsed: parse_one(p, n) parses one unit from the front of [p, p+n) and
// returns the bytes it took, 0 when it needs more or refused the bytes.
template <typename ParseOne>
void ForEachUnit(const uint8_t* data, size_t size, ParseOne parse_one) {
  const char* p = reinterpret_cast<const char*>(data);
  for (size_t left = size; left > 0;) {
    size_t consumed = parse_one(p, left);
    if (consumed == 0) return;
    FUZZ_CHECK(consumed <= left);
    p += consumed;
    left -= consumed;
  }
}

}  // namespace kvring::fuzz

// Defines the libFuzzer entry point of a target that takes a selector: `fn`
// (void(uint8_t selector, std::string_view bytes)) gets the first input byte and
// the rest.
#define KV_FUZZ_TARGET_WITH_SELECTOR(fn)                                 \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    std::string_view input = ::kvring::fuzz::Bytes(data, size);          \
    uint8_t selector = ::kvring::fuzz::TakeSelector(&input);             \
    fn(selector, input);                                                 \
    return 0;                                                            \
  }
