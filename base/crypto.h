// base/crypto.h — the few cryptographic primitives kvring needs, from OpenSSL's
// libcrypto (no hand-written crypto): HMAC-SHA256 (contexts a client cannot forge,
// the cluster handshake), random bytes, and a comparison that takes the same time
// whatever the bytes (so a MAC check leaks nothing through its timing).
// Thread safety: thread-safe (pure functions over OpenSSL's thread-safe calls).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kvring::base {

constexpr size_t kSha256Bytes = 32;

// HMAC-SHA256 of `data` under `key`: 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// `n` bytes from the system's cryptographic random source.
std::string RandomBytes(size_t n);
// a == b, in time that depends only on their sizes.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace kvring::base
