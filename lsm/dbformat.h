// lsm/dbformat.h — internal keys: how a user key, a sequence number and a kind
// are packed into the keys the memtable, WAL replay and SSTables order.
//
//   internal_key := user_key | trailer:fixed64    trailer = (sequence << 8) | kind
//
// Order (InternalKeyCompare): user key ascending (bytewise), then sequence
// descending, then kind descending, so the newest version of a key comes first.
// On-disk values of Kind: never renumber.
// Thread safety: pure functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"

namespace kvring::lsm {

using SequenceNumber = uint64_t;
// Sequence numbers use 56 bits so they pack with the kind into 8 bytes.
constexpr SequenceNumber kMaxSequenceNumber = (1ull << 56) - 1;

enum class ValueKind : uint8_t {
  kDeletion = 0,  // a tombstone: the key is deleted as of this sequence
  kValue = 1,
};
// Seeking uses the highest kind so that the seek key sorts before every entry
// of the same user key and sequence.
constexpr ValueKind kValueKindForSeek = ValueKind::kValue;
constexpr size_t kInternalKeyTrailerBytes = 8;

inline uint64_t PackSequenceAndKind(SequenceNumber seq, ValueKind kind) {
  return (seq << 8) | static_cast<uint8_t>(kind);
}

// Appends user_key + trailer to *dst.
inline void AppendInternalKey(std::string* dst, std::string_view user_key, SequenceNumber seq,
                              ValueKind kind) {
  dst->append(user_key.data(), user_key.size());
  base::PutFixed64(dst, PackSequenceAndKind(seq, kind));
}

inline std::string MakeInternalKey(std::string_view user_key, SequenceNumber seq, ValueKind kind) {
  std::string s;
  s.reserve(user_key.size() + kInternalKeyTrailerBytes);
  AppendInternalKey(&s, user_key, seq, kind);
  return s;
}

// REQUIRES: internal_key.size() >= 8 (callers validate with ParseInternalKey first
// when the bytes come from disk).
inline std::string_view ExtractUserKey(std::string_view internal_key) {
  return internal_key.substr(0, internal_key.size() - kInternalKeyTrailerBytes);
}
inline uint64_t ExtractTrailer(std::string_view internal_key) {
  return base::DecodeFixed64(internal_key.data() + internal_key.size() - kInternalKeyTrailerBytes);
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueKind kind = ValueKind::kValue;
};

// False when the bytes are too short or the kind is unknown (corruption).
inline bool ParseInternalKey(std::string_view internal_key, ParsedInternalKey* out) {
  if (internal_key.size() < kInternalKeyTrailerBytes) return false;
  uint64_t trailer = ExtractTrailer(internal_key);
  uint8_t kind = trailer & 0xff;
  if (kind > static_cast<uint8_t>(ValueKind::kValue)) return false;
  out->user_key = ExtractUserKey(internal_key);
  out->sequence = trailer >> 8;
  out->kind = static_cast<ValueKind>(kind);
  return true;
}

// <0, 0, >0 like memcmp, in the order described at the top of this file.
inline int InternalKeyCompare(std::string_view a, std::string_view b) {
  int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r != 0) return r;
  uint64_t ta = ExtractTrailer(a), tb = ExtractTrailer(b);
  if (ta > tb) return -1;
  if (ta < tb) return 1;
  return 0;
}

// InternalKeyCompare without library calls: the user keys are
// compared eight bytes at a time as big-endian words (which order like memcmp),
// then the trailers. The seek, merge and memtable loops spend much of their
// time here.
// REQUIRES: a.size() >= 8 and b.size() >= 8.
inline int CompareInternalKeys(std::string_view a, std::string_view b) {
  const size_t an = a.size() - kInternalKeyTrailerBytes;
  const size_t bn = b.size() - kInternalKeyTrailerBytes;
  const size_t n = an < bn ? an : bn;
  const char* pa = a.data();
  const char* pb = b.data();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t x = base::DecodeBigEndian64(pa + i);
    const uint64_t y = base::DecodeBigEndian64(pb + i);
    if (x != y) return x < y ? -1 : 1;
  }
  for (; i < n; ++i) {
    const auto x = static_cast<uint8_t>(pa[i]);
    const auto y = static_cast<uint8_t>(pb[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  if (an != bn) return an < bn ? -1 : 1;
  const uint64_t ta = base::DecodeFixed64(pa + an);
  const uint64_t tb = base::DecodeFixed64(pb + bn);
  if (ta != tb) return ta > tb ? -1 : 1;  // the newer (larger) sequence first
  return 0;
}

// A key for looking up user_key as of snapshot `seq` in internal iterators:
// Seek(LookupKey) lands on the newest entry of user_key with sequence <= seq.
inline std::string MakeLookupKey(std::string_view user_key, SequenceNumber seq) {
  return MakeInternalKey(user_key, seq, kValueKindForSeek);
}

}  // namespace kvring::lsm
