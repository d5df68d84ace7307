#include "repl/client_context.h"

#include "base/coding.h"
#include "base/crypto.h"

namespace kvring::repl {

namespace {

constexpr std::string_view kKeyLabel = "kvring client context v2";

base::Status Invalid(const std::string& what) { return base::Status::InvalidArgument("context: " + what); }

// MAC over lp(key) || body, so a context seals the key it belongs to.
std::string Mac(const ContextKey& mac_key, std::string_view key, std::string_view body) {
  std::string length;
  base::PutVarint32(&length, static_cast<uint32_t>(key.size()));
  std::string mac = base::HmacSha256(mac_key.bytes(), {length, key, body});
  mac.resize(kContextMacBytes);
  return mac;
}

}  // namespace

ContextKey::ContextKey(std::string_view key_material) : key_(base::HmacSha256(key_material, kKeyLabel)) {}

const ContextKey& ContextKey::Default() {
  static const ContextKey* key = new ContextKey("kvring");
  return *key;
}

void EncodeClientContext(const ContextKey& mac_key, std::string_view key, const VersionVector& history,
                         std::string* dst) {
  const size_t start = dst->size();
  dst->push_back(static_cast<char>(kClientContextVersion));
  history.EncodeTo(dst);
  dst->append(Mac(mac_key, key, std::string_view(*dst).substr(start)));
}

std::string EncodeClientContext(const ContextKey& mac_key, std::string_view key, const VersionVector& history) {
  std::string out;
  EncodeClientContext(mac_key, key, history, &out);
  return out;
}

base::Result<VersionVector> DecodeClientContext(const ContextKey& mac_key, std::string_view key,
                                                std::string_view bytes) {
  if (bytes.empty()) return Invalid("empty (a put without a context is sent with none at all)");
  if (bytes.size() > kMaxClientContextBytes) {
    return Invalid("too large (" + std::to_string(bytes.size()) + " bytes, at most " +
                   std::to_string(kMaxClientContextBytes) + ")");
  }
  if (bytes.size() < 1 + kContextMacBytes) return Invalid("truncated (" + std::to_string(bytes.size()) + " bytes)");
  const std::string_view body = bytes.substr(0, bytes.size() - kContextMacBytes);
  if (!base::ConstantTimeEqual(Mac(mac_key, key, body), bytes.substr(body.size()))) {
    return Invalid("forged, damaged or another key's (its MAC does not match): send back, whole, the context a "
                   "get or a put of this key returned");
  }
  const auto version = static_cast<uint8_t>(body[0]);
  if (version != kClientContextVersion) {
    return Invalid("unknown version " + std::to_string(version) + " (this node reads version " +
                   std::to_string(kClientContextVersion) + ")");
  }
  std::string_view input = body.substr(1);
  VersionVector history;
  base::Status s = history.DecodeFrom(&input);
  if (!s.ok()) return Invalid(s.message());
  if (!input.empty()) return Invalid(std::to_string(input.size()) + " trailing bytes");
  return history;
}

}  // namespace kvring::repl
