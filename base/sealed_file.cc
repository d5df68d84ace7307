#include "base/sealed_file.h"

#include "base/coding.h"
#include "base/crc32c.h"

namespace kvring::base {

namespace {
constexpr size_t kCrcBytes = 4;
}  // namespace

void SealFile(std::string_view magic, uint8_t version, std::string_view body, std::string* dst) {
  const size_t start = dst->size();
  dst->append(magic);
  dst->push_back(static_cast<char>(version));
  dst->append(body);
  PutFixed32(dst, crc32c::Mask(crc32c::Value(dst->data() + start, dst->size() - start)));
}

Status OpenSealedFile(std::string_view bytes, std::string_view magic, uint8_t max_version, const std::string& what,
                      uint8_t* version, std::string_view* body) {
  if (bytes.size() < magic.size() + 1 + kCrcBytes) {
    return Status::Corruption(what + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (bytes.substr(0, magic.size()) != magic) return Status::Corruption(what + ": bad magic");
  const std::string_view sealed = bytes.substr(0, bytes.size() - kCrcBytes);
  if (crc32c::Unmask(DecodeFixed32(bytes.data() + sealed.size())) != crc32c::Value(sealed.data(), sealed.size())) {
    return Status::Corruption(what + ": checksum mismatch");
  }
  *version = static_cast<uint8_t>(sealed[magic.size()]);
  if (*version == 0) return Status::Corruption(what + ": bad format version 0");
  if (*version > max_version) {
    return Status::NotSupported(what + ": format version " + std::to_string(*version) +
                                " is newer than this build reads (" + std::to_string(max_version) + ")");
  }
  *body = sealed.substr(magic.size() + 1);
  return Status::OK();
}

}  // namespace kvring::base
