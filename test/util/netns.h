// test/util/netns.h — running a test or tool inside a private network namespace
// (`unshare --net`, as root), where nodes listen on 127.0.0.x and iptables rules
// cut links without touching anything outside: the partition test
// (test/cluster/cluster_partition_test.cc) and the nemesis (build/kvnemesis).
// Thread safety: thread-safe (no state); ReexecInNamespace replaces the process.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kvring::test {

// The path of an installed program (searched in /usr/sbin, /sbin, /usr/bin, /bin), or "".
std::string FindProgram(const std::string& name);
// The running executable (/proc/self/exe).
std::string SelfPath();

// "" when a private network namespace with working iptables can be made here;
// else one line saying why not (not root, unshare/ip/iptables missing, iptables
// failing inside a namespace).
std::string NetnsUnavailableReason();

// Replaces this process with this executable run again with `args` inside
// `unshare --net --mount`, loopback up and env_var=1 in its environment (the
// re-run sees it and does not re-exec). Returns only when the exec failed.
base::Status ReexecInNamespace(const char* env_var, const std::vector<std::string>& args);

}  // namespace kvring::test
