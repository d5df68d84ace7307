#include "repl/client_context.h"

#include "base/coding.h"
#include "base/crc32c.h"

namespace kvring::repl {

namespace {

constexpr size_t kCrcBytes = 4;

base::Status Invalid(const std::string& what) { return base::Status::InvalidArgument("context: " + what); }

}  // namespace

void EncodeClientContext(const VersionVector& history, std::string* dst) {
  const size_t start = dst->size();
  dst->push_back(static_cast<char>(kClientContextVersion));
  history.EncodeTo(dst);
  const uint32_t crc = base::crc32c::Value(dst->data() + start, dst->size() - start);
  base::PutFixed32(dst, base::crc32c::Mask(crc));
}

std::string EncodeClientContext(const VersionVector& history) {
  std::string out;
  EncodeClientContext(history, &out);
  return out;
}

base::Result<VersionVector> DecodeClientContext(std::string_view bytes) {
  if (bytes.empty()) return Invalid("empty (a put without a context is sent with none at all)");
  if (bytes.size() < 1 + kCrcBytes) return Invalid("truncated (" + std::to_string(bytes.size()) + " bytes)");
  const std::string_view body = bytes.substr(0, bytes.size() - kCrcBytes);
  const uint32_t stored = base::crc32c::Unmask(base::DecodeFixed32(bytes.data() + body.size()));
  if (stored != base::crc32c::Value(body.data(), body.size())) {
    return Invalid("checksum mismatch (damaged or not copied whole from a get)");
  }
  const uint8_t version = static_cast<uint8_t>(body[0]);
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
