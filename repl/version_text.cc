#include "repl/version_text.h"

#include <cstdio>

namespace kvring::repl {

namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

bool ParseCounter(std::string_view digits, uint64_t* value) {
  if (digits.empty() || digits.size() > 20) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *value = v;
  return true;
}

}  // namespace

std::string DotText(const Dot& dot) { return dot.node + ":" + std::to_string(dot.counter); }

std::string VersionVectorText(const VersionVector& vv) {
  std::string out = "[";
  for (const VersionVector::Entry& e : vv.entries()) {
    if (out.size() > 1) out.push_back(' ');
    out += e.node;
    out.push_back(':');
    out += std::to_string(e.counter);
  }
  out.push_back(']');
  return out;
}

std::string SiblingClockText(const Sibling& sibling) {
  return DotText(sibling.dot) + " " + VersionVectorText(sibling.context);
}

std::string VersionVectorJson(const VersionVector& vv) {
  std::string out = "{";
  for (const VersionVector::Entry& e : vv.entries()) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(e.node, &out);
    out.push_back(':');
    out += std::to_string(e.counter);
  }
  out.push_back('}');
  return out;
}

std::string SiblingClockJson(const Sibling& sibling) {
  std::string out = "{\"dot\":";
  AppendJsonString(DotText(sibling.dot), &out);
  out += ",\"context\":";
  out += VersionVectorJson(sibling.context);
  out += ",\"timestamp_us\":";
  out += std::to_string(sibling.timestamp_micros);
  out.push_back('}');
  return out;
}

base::Result<Dot> ParseDotText(std::string_view text) {
  const size_t colon = text.rfind(':');
  Dot dot;
  if (colon == std::string_view::npos || colon == 0 || !ParseCounter(text.substr(colon + 1), &dot.counter) ||
      dot.counter == 0) {
    return base::Status::InvalidArgument("bad dot \"" + std::string(text) + "\" (want node:counter, counter >= 1)");
  }
  dot.node = std::string(text.substr(0, colon));
  if (dot.node.find_first_of(" []") != std::string::npos) {
    return base::Status::InvalidArgument("bad dot \"" + std::string(text) + "\" (node id with space or bracket)");
  }
  return dot;
}

base::Result<VersionVector> ParseVersionVectorText(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    return base::Status::InvalidArgument("bad version vector \"" + std::string(text) + "\" (want [n1:2 n2:5])");
  }
  std::string_view rest = text.substr(1, text.size() - 2);
  VersionVector vv;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    const std::string_view item = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (item.empty()) continue;
    base::Result<Dot> dot = ParseDotText(item);
    if (!dot.ok()) return dot.status().WithContext("in version vector \"" + std::string(text) + "\"");
    if (vv.Get(dot->node) != 0) {
      return base::Status::InvalidArgument("version vector \"" + std::string(text) + "\" repeats node " + dot->node);
    }
    vv.Witness(dot->node, dot->counter, 0);
  }
  return vv;
}

}  // namespace kvring::repl
