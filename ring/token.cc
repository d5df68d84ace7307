#include "ring/token.h"

#include <cinttypes>
#include <cstdio>

#include "base/hash.h"

namespace kvring::ring {

namespace {
constexpr double kTwoTo64 = 18446744073709551616.0;
}  // namespace

Token TokenOf(std::string_view key) { return base::Hash64(key, 0); }

Token VnodeToken(std::string_view node_id, uint32_t index) {
  // Built on the stack: ids are short, and this runs once per vnode at ring build.
  char digits[16];
  const int n = std::snprintf(digits, sizeof(digits), "#%" PRIu32, index);
  std::string text;
  text.reserve(node_id.size() + static_cast<size_t>(n));
  text.append(node_id);
  text.append(digits, static_cast<size_t>(n));
  return base::Hash64(text, 0);
}

bool TokenRange::Contains(Token t) const {
  if (full()) return true;
  if (start < end) return t > start && t <= end;
  return t > start || t <= end;  // wraps past 2^64-1
}

double TokenFraction(uint64_t width) { return static_cast<double>(width) / kTwoTo64; }

double TokenRange::Fraction() const { return full() ? 1.0 : TokenFraction(width()); }

void AppendMergedRange(std::vector<TokenRange>* ranges, const TokenRange& range) {
  if (!ranges->empty() && ranges->back().end == range.start) {
    ranges->back().end = range.end;
  } else {
    ranges->push_back(range);
  }
}

void CloseWrap(std::vector<TokenRange>* ranges) {
  if (ranges->size() >= 2 && ranges->back().end == ranges->front().start) {
    ranges->front().start = ranges->back().start;
    ranges->pop_back();
  }
}

std::string TokenRange::ToString() const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "(0x%016" PRIx64 ", 0x%016" PRIx64 "]", start, end);
  return buf;
}

}  // namespace kvring::ring
