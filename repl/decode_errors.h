// repl/decode_errors.h — the words the message decoders of repl/ answer bad
// input with: "AAE_SYNC request: malformed entry 2 of 3", "STREAM_READ reply: 3
// trailing bytes", "... count 9 exceeds the 4 bytes that follow" (always
// Corruption, naming the message and what in it failed).
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/status.h"

namespace kvring::repl {

inline base::Status Malformed(const char* what, const std::string& where) {
  return base::Status::Corruption(std::string(what) + ": " + where);
}

// "malformed entry 2 of 3" (i counts from 0).
inline std::string MalformedEntry(const char* noun, size_t i, size_t n) {
  return "malformed " + std::string(noun) + " " + std::to_string(i + 1) + " of " + std::to_string(n);
}

// A count that claims more entries than the bytes left could hold (each needs
// at least `min_bytes`) is refused before anything is reserved.
inline base::Status GetCount(std::string_view* in, const char* what, size_t min_bytes, uint32_t* count) {
  if (!base::GetVarint32(in, count)) return Malformed(what, "truncated count");
  if (static_cast<uint64_t>(*count) * min_bytes > in->size()) {
    return Malformed(what, "count " + std::to_string(*count) + " exceeds the " + std::to_string(in->size()) +
                               " bytes that follow");
  }
  return base::Status::OK();
}

inline base::Status Trailing(std::string_view in, const char* what) {
  if (in.empty()) return base::Status::OK();
  return Malformed(what, std::to_string(in.size()) + " trailing bytes");
}

}  // namespace kvring::repl
