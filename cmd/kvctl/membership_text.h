// cmd/kvctl/membership_text.h — what kvctl join, decommission, removenode
// (--wait) and streams print about a membership operation
// (repl::MembershipProgress).
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "repl/stream_messages.h"

namespace kvring::cmd::kvctl {

// "n4 join: streaming 12/40 ranges, 31000 keys, 120.5 MiB at 48.2 MiB/s, ETA 7 s
// [reading ... from n2: ...]" while it runs; "n4 join done in 31 s: 40 ranges,
// 104000 keys, 400.1 MiB (0 B again)" or "n4 join failed: WHY" at the end.
std::string MembershipLine(std::string_view node, const repl::MembershipProgress& p);
// The line above, then one line per stream: range, source -> destination, keys,
// bytes (and bytes again), done or streaming.
std::string StreamsText(std::string_view node, const repl::MembershipProgress& p);

}  // namespace kvring::cmd::kvctl
