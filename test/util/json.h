// test/util/json.h — a small, strict JSON reader and writer for the flat formats of
// the test tools (history files, docs/history.md; kvcheck's --json report).
//
// Supported: objects, arrays, strings (escapes \" \\ \/ \b \f \n \r \t and \uXXXX,
// surrogate pairs joined into UTF-8), integers that fit in int64, true, false,
// null. Rejected with an error naming the column: fractions and exponents (every
// number in these formats is an integer), leading zeros, raw control characters in
// strings, lone surrogates, duplicate object keys, trailing characters, nesting
// deeper than 64. Strings are byte strings: bytes >= 0x80 pass through as they are
// (not checked as UTF-8), so binary keys and values round-trip through JsonText
// and ParseJson unchanged.
//
// Objects keep their members in insertion order (JsonText writes them in that
// order, so lines read the way docs/history.md shows them).
// Thread safety: JsonValue is a value type; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kvring::test {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kInt, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Member = std::pair<std::string, JsonValue>;
  using Object = std::vector<Member>;

  JsonValue() = default;  // null
  static JsonValue Bool(bool b);
  static JsonValue Int(int64_t i);
  static JsonValue String(std::string_view s);
  static JsonValue EmptyArray();
  static JsonValue EmptyObject();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // REQUIRES: the matching type.
  bool bool_value() const { return bool_; }
  int64_t int_value() const { return int_; }
  const std::string& string_value() const { return string_; }
  const Array& array() const { return array_; }
  const Object& members() const { return object_; }

  // The member named `key` of an object, or nullptr (also for a non-object).
  const JsonValue* Find(std::string_view key) const;

  // Builders. REQUIRES: an object for Set, an array for Append. Set replaces an
  // existing member of that name in place, else appends.
  JsonValue& Set(std::string_view key, JsonValue value);
  JsonValue& Append(JsonValue value);

  // "null", "bool", "integer", "string", "array", "object".
  static const char* TypeName(Type type);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

// Parses exactly one JSON value (surrounding whitespace allowed). InvalidArgument
// "column N: what is wrong" on anything else.
[[nodiscard]] base::Result<JsonValue> ParseJson(std::string_view text);

// The compact text of a value (no spaces, no newline).
std::string JsonText(const JsonValue& value);
// Appends `s` as a quoted JSON string: ", \ and control characters escaped
// (\n \r \t \b \f, else \u00XX); every other byte as it is.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace kvring::test
