// cmd/kvbench/value_header.h — the header at the front of every value kvbench
// writes, so a read can tell which write it is looking at (the staleness check).
//
//   value  := magic:"KVB1" run_id:fixed32 version:fixed64 issued_us:fixed64 padding
//
// run_id   random per kvbench run: a value left by another run reads as "not ours".
// version  per-key write counter of this run: 1 for the preload, +1 per write issued.
// issued_us  wall-clock microseconds (Unix epoch) when the write was issued.
// padding  filler bytes up to the requested value size (not checked).
// Values shorter than kValueHeaderBytes carry no header (no staleness check).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvring::cmd::kvbench {

constexpr size_t kValueHeaderBytes = 24;
constexpr char kValueMagic[4] = {'K', 'V', 'B', '1'};

struct ValueHeader {
  uint32_t run_id = 0;
  uint64_t version = 0;
  uint64_t issued_us = 0;
};

// Writes the header into dst[0, kValueHeaderBytes).
void EncodeValueHeader(char* dst, const ValueHeader& header);
// False when the value is too short or does not start with the magic.
bool DecodeValueHeader(std::string_view value, ValueHeader* header);

}  // namespace kvring::cmd::kvbench
