// base/strings.h — small string helpers shared by the packages above base.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kvring::base {

// `parts` with `separator` between each two ("" for none): "n1, n2, n3".
inline std::string Join(const std::vector<std::string>& parts, std::string_view separator = ", ") {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

}  // namespace kvring::base
