// repl/value_format.h — the stored value format: the bytes the engine keeps under
// (token, key) for one key at one replica, i.e. an encoded SiblingSet.
// Byte by byte, with a worked hex example: docs/formats/value.md.
//
//   value   := version:u8 history:vector count:varint32 sibling{count}
//   sibling := flags:u8 dot_node:varint32 dot_lag:varint64 timestamp_us:fixed64
//              [context]            (present iff flags & kSiblingFullContext)
//              [value:lp]           (absent iff flags & kSiblingTombstone)
//   context := count:varint32 (node:varint32 lag:varint64){count}
//
// Node ids appear once, in the history; dots and contexts name them by index, and
// counters are stored as lags below the history's counter (0 for the newest dot).
// A sibling without a full context has the common context "the history just before
// my dot" (what a put with a fresh context, or a blind put, produces).
// On-disk values: never renumber the version or the flag bits.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/sibling_set.h"

namespace kvring::repl {

constexpr uint8_t kValueFormatVersion = 1;
constexpr uint8_t kSiblingTombstone = 0x01;    // a delete: no value follows
constexpr uint8_t kSiblingFullContext = 0x02;  // an explicit context follows
constexpr uint8_t kSiblingKnownFlags = kSiblingTombstone | kSiblingFullContext;

// Appends the encoding of `set` to *dst.
void EncodeSiblingSet(const SiblingSet& set, std::string* dst);
std::string EncodeSiblingSet(const SiblingSet& set);

// Parses a stored value. Corruption, naming the field and sibling, on malformed or
// truncated bytes or broken invariants; NotSupported for a format version newer
// than kValueFormatVersion (written by a newer node). Never crashes on any input.
[[nodiscard]] base::Result<SiblingSet> DecodeSiblingSet(std::string_view bytes);

}  // namespace kvring::repl
