#include "test/util/netns.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "test/util/kvnode_process.h"

namespace kvring::test {

std::string FindProgram(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string NetnsUnavailableReason() {
  if (::geteuid() != 0) return "not root (unshare --net and iptables need root)";
  const std::string unshare = FindProgram("unshare"), iptables = FindProgram("iptables"), ip = FindProgram("ip");
  if (unshare.empty() || iptables.empty() || ip.empty()) {
    return "unshare, iptables or ip is missing (apt-get install util-linux iptables iproute2)";
  }
  ProgramResult probe = RunProgram({unshare, "--net", "--", iptables, "-L", "-n"});
  if (probe.exit_code != 0) return "iptables does not work in a private network namespace here: " + probe.err;
  return "";
}

base::Status ReexecInNamespace(const char* env_var, const std::vector<std::string>& args_after) {
  const std::string unshare = FindProgram("unshare"), ip = FindProgram("ip"), self = SelfPath();
  const std::string script = ip + " link set lo up && exec env " + env_var + "=1 \"$0\" \"$@\"";
  std::vector<std::string> args = {unshare, "--net", "--mount", "--", "/bin/sh", "-c", script, self};
  args.insert(args.end(), args_after.begin(), args_after.end());
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  ::execv(raw[0], raw.data());
  return base::Status::FromErrno("exec " + unshare, errno);
}

}  // namespace kvring::test
