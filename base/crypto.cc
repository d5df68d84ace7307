#include "base/crypto.h"

// The SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, whose
// per-call context copies (a malloc and a provider call each) cost more than the
// two compressions an HMAC of a short message needs. They remain supported.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace kvring::base {

namespace {

// HMAC (RFC 2104): H((K ^ opad) || H((K ^ ipad) || m)). The hash states after the
// two padded-key blocks depend only on the key: each thread keeps them for its
// recent keys, so a MAC costs copying two states and hashing m plus 32 bytes.
constexpr size_t kKeysPerThread = 8;
constexpr size_t kBlock = 64;

struct KeyPads {
  std::string key;
  SHA256_CTX inner;  // after (K ^ ipad)
  SHA256_CTX outer;  // after (K ^ opad)
};

KeyPads MakePads(std::string_view key) {
  KeyPads p;
  p.key = std::string(key);
  unsigned char k0[kBlock] = {};
  if (key.size() > kBlock) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), k0);
  } else {
    std::memcpy(k0, key.data(), key.size());
  }
  unsigned char pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x36;
  SHA256_Init(&p.inner);
  SHA256_Update(&p.inner, pad, kBlock);
  for (size_t i = 0; i < kBlock; ++i) pad[i] = k0[i] ^ 0x5c;
  SHA256_Init(&p.outer);
  SHA256_Update(&p.outer, pad, kBlock);
  OPENSSL_cleanse(k0, sizeof(k0));
  OPENSSL_cleanse(pad, sizeof(pad));
  return p;
}

class KeyCache {
 public:
  // The pads of `key` (most recently used first).
  const KeyPads& For(std::string_view key) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].key != key) continue;
      if (i != 0) std::swap(entries_[0], entries_[i]);
      return entries_[0];
    }
    if (entries_.size() == kKeysPerThread) entries_.pop_back();
    entries_.insert(entries_.begin(), MakePads(key));
    return entries_[0];
  }

 private:
  std::vector<KeyPads> entries_;
};

}  // namespace

std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> pieces) {
  thread_local KeyCache cache;
  const KeyPads& pads = cache.For(key);
  SHA256_CTX ctx = pads.inner;
  for (std::string_view p : pieces) SHA256_Update(&ctx, p.data(), p.size());
  unsigned char inner[kSha256Bytes];
  SHA256_Final(inner, &ctx);
  ctx = pads.outer;
  SHA256_Update(&ctx, inner, sizeof(inner));
  std::string out(kSha256Bytes, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx);
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) { return HmacSha256(key, {data}); }

std::string Sha256(std::string_view data) {
  std::string out(kSha256Bytes, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Pbkdf2Sha256(std::string_view password, std::string_view salt, uint32_t iterations) {
  std::string out(kSha256Bytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                        static_cast<int>(iterations), EVP_sha256(), static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    std::abort();  // only on an allocation failure inside OpenSSL
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no randomness: nothing that needs it can be trusted
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kvring::base
