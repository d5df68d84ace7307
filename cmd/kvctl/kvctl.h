// cmd/kvctl/kvctl.h — kvctl, the operator's and developer's command-line tool:
// get/put/del/ping/stats against any node, and ring/status for the cluster.
// Exit codes a script can use: 0 success (found), 1 not found, 2 error.
// Thread safety: RunKvctl is self-contained (one blocking connection per call).
#pragma once

#include <iosfwd>

namespace kvring::cmd::kvctl {

constexpr int kExitOk = 0;
constexpr int kExitNotFound = 1;
constexpr int kExitError = 2;

// Runs one kvctl invocation; argv[0] is the program name. Values for `put`
// without a value argument are read from `in`.
int RunKvctl(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace kvring::cmd::kvctl
