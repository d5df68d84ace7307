#include "cmd/kvbench/value_header.h"

#include <cstring>

#include "base/coding.h"

namespace kvring::cmd::kvbench {

static_assert(kValueHeaderBytes == sizeof(kValueMagic) + 4 + 8 + 8, "header layout: see value_header.h");

void EncodeValueHeader(char* dst, const ValueHeader& header) {
  std::memcpy(dst, kValueMagic, sizeof(kValueMagic));
  base::EncodeFixed32(dst + 4, header.run_id);
  base::EncodeFixed64(dst + 8, header.version);
  base::EncodeFixed64(dst + 16, header.issued_us);
}

bool DecodeValueHeader(std::string_view value, ValueHeader* header) {
  if (value.size() < kValueHeaderBytes || std::memcmp(value.data(), kValueMagic, sizeof(kValueMagic)) != 0) {
    return false;
  }
  header->run_id = base::DecodeFixed32(value.data() + 4);
  header->version = base::DecodeFixed64(value.data() + 8);
  header->issued_us = base::DecodeFixed64(value.data() + 16);
  return true;
}

}  // namespace kvring::cmd::kvbench
