#include "test/util/json.h"

#include <cassert>
#include <limits>

namespace kvring::test {

using base::Status;

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::Int(int64_t i) {
  JsonValue v;
  v.type_ = Type::kInt;
  v.int_ = i;
  return v;
}

JsonValue JsonValue::String(std::string_view s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::string(s);
  return v;
}

JsonValue JsonValue::EmptyArray() {
  JsonValue v;
  v.type_ = Type::kArray;
  return v;
}

JsonValue JsonValue::EmptyObject() {
  JsonValue v;
  v.type_ = Type::kObject;
  return v;
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const Member& m : object_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

JsonValue& JsonValue::Set(std::string_view key, JsonValue value) {
  assert(type_ == Type::kObject);
  for (Member& m : object_) {
    if (m.first == key) {
      m.second = std::move(value);
      return *this;
    }
  }
  object_.emplace_back(std::string(key), std::move(value));
  return *this;
}

JsonValue& JsonValue::Append(JsonValue value) {
  assert(type_ == Type::kArray);
  array_.push_back(std::move(value));
  return *this;
}

const char* JsonValue::TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kInt: return "integer";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 64;

// A recursive-descent parser over one text; errors name the 1-based column.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  base::Result<JsonValue> ParseDocument() {
    JsonValue value;
    SkipSpace();
    KV_RETURN_IF_ERROR(ParseValue(&value, 0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected characters after the value");
    return value;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("column " + std::to_string(pos_ + 1) + ": " + std::string(what));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) ++pos_;
  }

  bool ConsumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status ParseValue(JsonValue* out, int depth) {
    if (AtEnd()) return Error("unexpected end of input (want a value)");
    const char c = Peek();
    if (c == '{') return ParseObject(out, depth + 1);
    if (c == '[') return ParseArray(out, depth + 1);
    if (c == '"') {
      std::string s;
      KV_RETURN_IF_ERROR(ParseString(&s));
      *out = JsonValue::String(s);
      return Status::OK();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseInteger(out);
    if (ConsumeWord("true")) {
      *out = JsonValue::Bool(true);
      return Status::OK();
    }
    if (ConsumeWord("false")) {
      *out = JsonValue::Bool(false);
      return Status::OK();
    }
    if (ConsumeWord("null")) {
      *out = JsonValue();
      return Status::OK();
    }
    return Error(std::string("unexpected character '") + c + "' (want a value)");
  }

  Status ParseObject(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than 64");
    ++pos_;  // '{'
    JsonValue obj = JsonValue::EmptyObject();
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      *out = std::move(obj);
      return Status::OK();
    }
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Error("want a member name in quotes");
      std::string key;
      KV_RETURN_IF_ERROR(ParseString(&key));
      if (obj.Find(key) != nullptr) return Error("duplicate member \"" + key + "\"");
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Error("want ':' after a member name");
      ++pos_;
      SkipSpace();
      JsonValue value;
      KV_RETURN_IF_ERROR(ParseValue(&value, depth));
      obj.Set(key, std::move(value));
      SkipSpace();
      if (AtEnd()) return Error("unexpected end of input in an object");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        *out = std::move(obj);
        return Status::OK();
      }
      return Error("want ',' or '}' in an object");
    }
  }

  Status ParseArray(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than 64");
    ++pos_;  // '['
    JsonValue arr = JsonValue::EmptyArray();
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      *out = std::move(arr);
      return Status::OK();
    }
    while (true) {
      SkipSpace();
      JsonValue value;
      KV_RETURN_IF_ERROR(ParseValue(&value, depth));
      arr.Append(std::move(value));
      SkipSpace();
      if (AtEnd()) return Error("unexpected end of input in an array");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        *out = std::move(arr);
        return Status::OK();
      }
      return Error("want ',' or ']' in an array");
    }
  }

  Status ParseInteger(JsonValue* out) {
    const size_t start = pos_;
    const bool negative = Peek() == '-';
    if (negative) ++pos_;
    if (AtEnd() || Peek() < '0' || Peek() > '9') return Error("want a digit");
    if (Peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9') {
      return Error("leading zeros are not allowed");
    }
    // Accumulate as a negative number: its range is one larger.
    int64_t value = 0;
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      const int digit = Peek() - '0';
      if (value < (kMin + digit) / 10) {
        pos_ = start;
        return Error("integer out of range");
      }
      value = value * 10 - digit;
      ++pos_;
    }
    if (!AtEnd() && (Peek() == '.' || Peek() == 'e' || Peek() == 'E')) {
      return Error("numbers must be integers (no fraction or exponent)");
    }
    if (!negative) {
      if (value == kMin) {
        pos_ = start;
        return Error("integer out of range");
      }
      value = -value;
    }
    *out = JsonValue::Int(value);
    return Status::OK();
  }

  Status ParseHex4(uint32_t* out) {
    if (pos_ + 4 > text_.size()) return Error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_ + static_cast<size_t>(i)];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("bad hex digit in a \\u escape");
      }
    }
    pos_ += 4;
    *out = v;
    return Status::OK();
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // After "\u": one code point, or a surrogate pair written as two escapes.
  Status ParseUnicodeEscape(std::string* out) {
    uint32_t cp = 0;
    KV_RETURN_IF_ERROR(ParseHex4(&cp));
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") return Error("high surrogate not followed by a \\u low surrogate");
      pos_ += 2;
      uint32_t low = 0;
      KV_RETURN_IF_ERROR(ParseHex4(&low));
      if (low < 0xDC00 || low > 0xDFFF) return Error("high surrogate not followed by a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, out);
    return Status::OK();
  }

  Status ParseString(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return Status::OK();
      }
      if (static_cast<unsigned char>(c) < 0x20) return Error("raw control character in a string (escape it)");
      if (c != '\\') {
        out->push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (AtEnd()) return Error("unterminated escape");
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': KV_RETURN_IF_ERROR(ParseUnicodeEscape(out)); break;
        default:
          --pos_;
          return Error(std::string("unknown escape \\") + e);
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

void AppendJson(std::string* out, const JsonValue& v) {
  switch (v.type()) {
    case JsonValue::Type::kNull: out->append("null"); return;
    case JsonValue::Type::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case JsonValue::Type::kInt: out->append(std::to_string(v.int_value())); return;
    case JsonValue::Type::kString: AppendJsonString(out, v.string_value()); return;
    case JsonValue::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const JsonValue& e : v.array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, e);
      }
      out->push_back(']');
      return;
    }
    case JsonValue::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const JsonValue::Member& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, m.first);
        out->push_back(':');
        AppendJson(out, m.second);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

base::Result<JsonValue> ParseJson(std::string_view text) { return Parser(text).ParseDocument(); }

std::string JsonText(const JsonValue& value) {
  std::string out;
  AppendJson(&out, value);
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xF]);
          out->push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace kvring::test
