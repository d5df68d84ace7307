// base/crypto.h — the few cryptographic primitives kvring needs, from OpenSSL's
// libcrypto (no hand-written ciphers or hashes; HMAC is RFC 2104's two passes of
// OpenSSL's SHA-256, tested against OpenSSL's own HMAC): SHA-256, HMAC-SHA256
// (contexts a client cannot forge, the cluster handshake), PBKDF2-HMAC-SHA256
// (OpenSSL's, for client passwords), random bytes, and a comparison that
// takes the same time whatever the bytes (so a MAC check leaks nothing through its
// timing).
// Thread safety: thread-safe (each thread keeps its own precomputed key states).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace kvring::base {

constexpr size_t kSha256Bytes = 32;

// SHA-256 of `data`: 32 bytes.
std::string Sha256(std::string_view data);
// HMAC-SHA256 of `data` under `key`: 32 bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// The same of the pieces one after the other (no copy into one buffer).
std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> pieces);
// PBKDF2 (RFC 8018) with HMAC-SHA256: 32 bytes derived from `password` and
// `salt` in `iterations` rounds (OpenSSL's PKCS5_PBKDF2_HMAC).
std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, uint32_t iterations);
// `n` bytes from the system's cryptographic random source.
std::string RandomBytes(size_t n);
// a == b, in time that depends only on their sizes.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace kvring::base
