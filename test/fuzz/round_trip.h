// test/fuzz/round_trip.h — the round-trip check the codec targets share: what a
// decoder accepts must re-encode to bytes the decoder accepts again, and those
// bytes must be a fixed point (encode . decode leaves them as they are). Catches
// decoders that accept what their encoder cannot write, and encoders that lose
// a field.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {

// Messages holding views cannot be compared field by field without help: by
// default the fixed point is the whole check.
struct NoFieldCheck {
  template <typename M>
  bool operator()(const M&, const M&) const { return true; }
};

// decode(std::string_view, M*) -> bool; encode(std::string*, const M&);
// same(const M&, const M&) -> bool compares the first decode with the second.
// Returns whether `bytes` decoded.
template <typename M, typename Decode, typename Encode, typename Same = NoFieldCheck>
bool CheckRoundTrip(std::string_view bytes, Decode decode, Encode encode, Same same = {}) {
  M first;
  if (!decode(bytes, &first)) return false;
  std::string once;
  encode(&once, first);
  M second;
  FUZZ_CHECK(decode(once, &second));
  FUZZ_CHECK(same(first, second));
  std::string twice;
  encode(&twice, second);
  FUZZ_CHECK(twice == once);
  return true;
}

// The same for a decoder that answers a Status (decode(std::string_view, M*)) and
// a message compared with ==: a refusal must name what failed.
template <typename M, typename Decode, typename Encode>
void CheckStatusRoundTrip(std::string_view body, Decode decode, Encode encode) {
  auto dec = [&](std::string_view b, M* m) {
    base::Status s = decode(b, m);
    FUZZ_CHECK(s.ok() || !s.message().empty());
    return s.ok();
  };
  CheckRoundTrip<M>(body, dec, encode, [](const M& a, const M& b) { return a == b; });
}

}  // namespace kvring::fuzz
