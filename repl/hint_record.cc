#include "repl/hint_record.h"

#include <cassert>
#include <cstdio>

#include "base/coding.h"

namespace kvring::repl {

using base::Status;

namespace {
constexpr size_t kMaxQuotedBytes = 64;
}  // namespace

std::string QuoteHintBytes(std::string_view bytes) {
  std::string out = "'";
  for (size_t i = 0; i < bytes.size() && i < kMaxQuotedBytes; i++) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  if (bytes.size() > kMaxQuotedBytes) out += "...";
  return out + "'";
}

Status ValidateHintOwner(std::string_view owner) {
  if (owner.empty()) return Status::InvalidArgument("hint owner: empty node id");
  if (owner.find(kHintOwnerTerminator) != std::string_view::npos) {
    return Status::InvalidArgument("hint owner " + QuoteHintBytes(owner) + ": a node id may not contain 0x00");
  }
  return Status::OK();
}

std::string HintKey(std::string_view owner, std::string_view key) {
  assert(ValidateHintOwner(owner).ok());
  std::string out;
  out.reserve(owner.size() + 1 + key.size());
  out.append(owner);
  out.push_back(kHintOwnerTerminator);
  out.append(key);
  return out;
}

bool SplitHintKey(std::string_view engine_key, std::string_view* owner, std::string_view* key) {
  const size_t end = engine_key.find(kHintOwnerTerminator);
  if (end == std::string_view::npos || end == 0) return false;
  *owner = engine_key.substr(0, end);
  *key = engine_key.substr(end + 1);
  return true;
}

void EncodeHintRecord(const HintRecord& record, std::string* dst) {
  dst->push_back(static_cast<char>(kHintFormatVersion));
  base::PutFixed64(dst, record.first_us);
  base::PutFixed64(dst, record.last_us);
  base::PutVarint64(dst, record.bytes);
  base::PutVarint64(dst, record.seq);
}

base::Result<HintRecord> DecodeHintRecord(std::string_view bytes, std::string_view what) {
  const std::string prefix = std::string(what) + ": ";
  if (bytes.empty()) return Status::Corruption(prefix + "empty value");
  // The version comes first, so a newer layout is NotSupported, not "truncated".
  const auto version = static_cast<uint8_t>(bytes[0]);
  if (version > kHintFormatVersion) {
    return Status::NotSupported(prefix + "format version " + std::to_string(version) +
                                " is newer than this node reads (" + std::to_string(kHintFormatVersion) + ")");
  }
  if (version == 0) return Status::Corruption(prefix + "bad format version 0");
  std::string_view in = bytes.substr(1);
  HintRecord r;
  if (!base::GetFixed64(&in, &r.first_us) || !base::GetFixed64(&in, &r.last_us) ||
      !base::GetVarint64(&in, &r.bytes) || !base::GetVarint64(&in, &r.seq)) {
    return Status::Corruption(prefix + "truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (!in.empty()) return Status::Corruption(prefix + std::to_string(in.size()) + " trailing bytes");
  if (r.seq == 0) return Status::Corruption(prefix + "seq 0");
  if (r.first_us > r.last_us) return Status::Corruption(prefix + "first_us after last_us");
  return r;
}

}  // namespace kvring::repl
