// repl/hint_record.h — the bytes of one hint in the hint engine (DATA/hints/):
// "owner needs key K", one record per (owner, key). repl/hint_store.h keeps them.
//
//   engine key   := owner | 0x00 | key          (node ids contain no 0x00)
//   engine value := version:u8 first_us:fixed64 last_us:fixed64 bytes:varint64 seq:varint64
// Byte by byte, with a worked example: docs/formats/hints.md. On-disk values:
// never renumber.
// Thread safety: pure functions and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvring::repl {

constexpr uint8_t kHintFormatVersion = 1;
// Ends the owner id in an engine key; node ids never contain it.
constexpr char kHintOwnerTerminator = '\0';
// version + first_us + last_us + one byte per varint.
constexpr size_t kHintRecordMinBytes = 1 + 8 + 8 + 1 + 1;
static_assert(kHintRecordMinBytes == 19, "docs/formats/hints.md: the smallest record is 19 bytes");
// The hint engine's directory inside a node's data directory.
constexpr char kHintsDirName[] = "hints";

// What one record stores about (owner, key).
struct HintRecord {
  uint64_t first_us = 0;  // wall time the owner first missed the key since its last replay
  uint64_t last_us = 0;   // wall time of the latest miss; >= first_us
  uint64_t bytes = 0;     // the caller's estimate of what a replay sends (the encoded set's size)
  uint64_t seq = 0;       // raised by every Add of the record; >= 1

  friend bool operator==(const HintRecord&, const HintRecord&) = default;
};

// Bytes for a message: 'printable ASCII', other bytes as \xNN, cut after 64.
std::string QuoteHintBytes(std::string_view bytes);

// InvalidArgument unless owner is a non-empty id without 0x00.
[[nodiscard]] base::Status ValidateHintOwner(std::string_view owner);
// REQUIRES: ValidateHintOwner(owner).ok().
std::string HintKey(std::string_view owner, std::string_view key);
// Splits an engine key at its first 0x00; false when there is none or the owner is empty.
bool SplitHintKey(std::string_view engine_key, std::string_view* owner, std::string_view* key);

void EncodeHintRecord(const HintRecord& record, std::string* dst);
// Corruption "<what>: <reason>" (empty, truncated, trailing bytes, seq 0, first_us
// after last_us, version 0); NotSupported for a version newer than this code reads.
[[nodiscard]] base::Result<HintRecord> DecodeHintRecord(std::string_view bytes,
                                                        std::string_view what = "hint record");

}  // namespace kvring::repl
