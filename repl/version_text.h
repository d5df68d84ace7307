// repl/version_text.h — readable forms of dots, version vectors and sibling clocks,
// for kvctl, logs, tests and checkers that order versions:
//   dot               n1:3
//   vector            [n1:2 n2:5]                 (sorted by node id)
//   sibling clock     n1:3 [n1:2 n2:5]            (dot, then the writer's context)
//   vector JSON       {"n1":2,"n2":5}
//   sibling JSON      {"dot":"n1:3","context":{"n1":2,"n2":5},"timestamp_us":1700000000123456}
// A checker orders two versions by their clocks: the one whose context covers the
// other's dot is newer; if neither does they are concurrent (repl/sibling_set.h).
// The text forms parse back (node ids must not contain spaces or brackets; a dot's
// counter follows its last ':').
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/sibling_set.h"
#include "repl/version_vector.h"

namespace kvring::repl {

std::string DotText(const Dot& dot);
std::string VersionVectorText(const VersionVector& vv);
std::string SiblingClockText(const Sibling& sibling);

std::string VersionVectorJson(const VersionVector& vv);
std::string SiblingClockJson(const Sibling& sibling);

// Parsers for the text forms above (InvalidArgument naming the bad part). Parsed
// vectors have unknown (0) entry times.
[[nodiscard]] base::Result<Dot> ParseDotText(std::string_view text);
[[nodiscard]] base::Result<VersionVector> ParseVersionVectorText(std::string_view text);

}  // namespace kvring::repl
