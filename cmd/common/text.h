// cmd/common/text.h — small text helpers for the command-line tools: base64
// (contexts and binary values on a terminal), JSON string escaping, and
// human-readable times and sizes.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvring::cmd {

std::string Base64Encode(std::string_view data);
// False on characters outside the base64 alphabet or a bad length/padding.
bool Base64Decode(std::string_view text, std::string* data);

// A JSON string literal (with the quotes) for arbitrary bytes: control
// characters and bytes >= 0x80 that are not valid UTF-8 become \u00XX escapes.
std::string JsonString(std::string_view bytes);

// "2026-11-24T19:33:54.123Z" for microseconds since the Unix epoch.
std::string FormatWallMicros(uint64_t micros);

// "512 B", "1.5 KiB", "2.0 MiB", "3.2 GiB".
std::string FormatBytes(double bytes);
// "2.5 s" under ten seconds, "42 s" up to an hour, then "1 h 02 min".
std::string FormatSeconds(double seconds);

}  // namespace kvring::cmd
