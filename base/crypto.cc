#include "base/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace kvring::base {

namespace {

// OpenSSL's one-shot HMAC() fetches the digest from the provider store (a
// read-write lock and reference counts) and sets up a fresh context on every
// call: a fifth of a kvnode's CPU when every request carries a context. Each
// thread keeps a keyed context per recent key instead, reset (not rebuilt) per
// MAC: EVP_MAC_init with no key reuses the key already set.
constexpr size_t kKeysPerThread = 8;

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "kvring: OpenSSL %s failed\n", what);
  std::abort();  // no MAC can be trusted after this
}

class KeyedContexts {
 public:
  KeyedContexts() = default;
  KeyedContexts(const KeyedContexts&) = delete;
  KeyedContexts& operator=(const KeyedContexts&) = delete;
  ~KeyedContexts() {
    for (auto& [key, ctx] : entries_) EVP_MAC_CTX_free(ctx);
  }

  // A context ready for updates under `key` (most recently used first).
  EVP_MAC_CTX* For(std::string_view key) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].first != key) continue;
      if (i != 0) std::swap(entries_[0], entries_[i]);
      if (EVP_MAC_init(entries_[0].second, nullptr, 0, nullptr) != 1) Fail("EVP_MAC_init");
      return entries_[0].second;
    }
    return Add(key);
  }

 private:
  EVP_MAC_CTX* Add(std::string_view key) {
    if (entries_.size() == kKeysPerThread) {
      EVP_MAC_CTX_free(entries_.back().second);
      entries_.pop_back();
    }
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(HmacAlgorithm());
    if (ctx == nullptr) Fail("EVP_MAC_CTX_new");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    if (EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
      Fail("EVP_MAC_init");
    }
    entries_.insert(entries_.begin(), {std::string(key), ctx});
    return ctx;
  }

  std::vector<std::pair<std::string, EVP_MAC_CTX*>> entries_;
};

}  // namespace

std::string HmacSha256(std::string_view key, std::initializer_list<std::string_view> pieces) {
  thread_local KeyedContexts contexts;
  EVP_MAC_CTX* ctx = contexts.For(key);
  for (std::string_view p : pieces) {
    if (EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(p.data()), p.size()) != 1) Fail("EVP_MAC_update");
  }
  std::string out(kSha256Bytes, '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 ||
      len != kSha256Bytes) {
    Fail("EVP_MAC_final");
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) { return HmacSha256(key, {data}); }

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
