#include "cmd/common/text.h"

#include <time.h>

#include <cstdio>

namespace kvring::cmd {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  return n;
}
}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* data) {
  data->clear();
  if (text.size() % 4 != 0) return false;
  for (size_t i = 0; i < text.size(); i += 4) {
    int c[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char ch = text[i + k];
      if (ch == '=' && i + 4 == text.size() && k >= 2) {
        c[k] = 0;
        ++pad;
      } else {
        if (pad > 0) return false;
        c[k] = DecodeChar(ch);
        if (c[k] < 0) return false;
      }
    }
    uint32_t v = (c[0] << 18) | (c[1] << 12) | (c[2] << 6) | c[3];
    data->push_back(static_cast<char>(v >> 16));
    if (pad < 2) data->push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) data->push_back(static_cast<char>(v & 0xff));
  }
  return true;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c >= 0x20 && c < 0x80) {
      out += static_cast<char>(c);
    } else if (size_t n = c >= 0x80 ? Utf8Length(s, i) : 0; n > 0) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    }
    ++i;
  }
  return out + "\"";
}

std::string FormatWallMicros(uint64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1'000'000);
  tm parts;
  gmtime_r(&secs, &parts);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", parts.tm_year + 1900, parts.tm_mon + 1,
                parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<unsigned>((micros / 1000) % 1000));
  return buf;
}

std::string FormatBytes(double bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%.0f B", bytes);
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", bytes / 1024);
  } else if (bytes < 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", bytes / (1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  }
  return buf;
}

std::string FormatSeconds(double seconds) {
  char buf[48];
  if (seconds < 3600) {
    std::snprintf(buf, sizeof(buf), seconds < 10 ? "%.1f s" : "%.0f s", seconds);
  } else {
    const auto minutes = static_cast<long long>(seconds / 60);
    std::snprintf(buf, sizeof(buf), "%lld h %02lld min", minutes / 60, minutes % 60);
  }
  return buf;
}

}  // namespace kvring::cmd
