#include "test/util/nemesis_injector.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/env.h"
#include "node/test_hooks.h"

namespace kvring::test {

using base::Status;

namespace {

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

Status FaultInjector::Iptables(const std::string& op, const std::vector<std::string>& rule) {
  std::vector<std::string> argv = {o_.iptables, "-w", op};
  argv.insert(argv.end(), rule.begin(), rule.end());
  ProgramResult r = RunProgram(argv);
  if (r.exit_code != 0) return Status::IOError("iptables " + op + " " + Joined(rule) + ": " + r.err);
  return Status::OK();
}

Status FaultInjector::Rules(const Fault& fault, const std::string& op) {
  if (o_.iptables.empty()) return Status::InvalidArgument(std::string(FaultKindName(fault.kind)) + " needs iptables");
  Status first;
  for (const auto& rule : RulesFor(fault, o_.hosts)) {
    Status s = Iptables(op, rule);
    if (first.ok()) first = s;
  }
  return first;
}

Status FaultInjector::Signal(int i, int sig, const char* what) {
  if (!node(i).running()) return Status::Unavailable(node(i).id() + " is not running: no " + what);
  if (::kill(node(i).pid(), sig) != 0) return Status::FromErrno(std::string(what) + " " + node(i).id(), errno);
  return Status::OK();
}

Status FaultInjector::WriteControl(int i, const char* name, const std::string& value) {
  return base::WriteStringToFileAtomic(base::Env::Default(), value, base::JoinPath(node(i).data_dir(), name));
}

Status FaultInjector::RemoveControl(int i, const char* name) {
  const std::string path = base::JoinPath(node(i).data_dir(), name);
  if (!base::Env::Default()->FileExists(path)) return Status::OK();
  return base::Env::Default()->RemoveFile(path);
}

Status FaultInjector::FillDisk(int i) {
  const std::string path = base::JoinPath(node(i).data_dir(), kDiskFillFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  const std::string chunk(1 << 20, 'F');
  uint64_t written = 0;
  for (;;) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n > 0) written += static_cast<uint64_t>(n);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || written > (64ull << 30)) break;
  }
  const int err = errno;
  ::close(fd);
  if (err != ENOSPC) return Status::FromErrno("filling " + path + " stopped before the disk was full", err);
  return Status::OK();
}

Status FaultInjector::EmptyDisk(int i) { return RemoveControl(i, kDiskFillFile); }

Status FaultInjector::Restart(int i) {
  Status s = node(i).Restart();
  killed_[static_cast<size_t>(i)] = !s.ok();
  return s;
}

Status FaultInjector::LosePower(int i) {
  killed_[static_cast<size_t>(i)] = true;  // its exit is the fault, not a crash
  KV_RETURN_IF_ERROR(WriteControl(i, node::kTestPowerLossFile, "1"));
  if (WaitFor([&] { return !node(i).running(); }, 10'000)) return Status::OK();
  node(i).Kill();
  return Status::TimedOut(node(i).id() + " did not lose power within 10 s of " + node::kTestPowerLossFile +
                          " (killed instead)");
}

Status FaultInjector::Apply(const Fault& f) {
  ++applied_;
  const int i = f.nodes.empty() ? 0 : f.nodes[0];
  Status s;
  switch (f.kind) {
    case FaultKind::kPause: s = Signal(i, SIGSTOP, "SIGSTOP"); break;
    case FaultKind::kKill:
      node(i).Kill();
      killed_[static_cast<size_t>(i)] = true;
      break;
    case FaultKind::kClockSkew: s = WriteControl(i, node::kTestClockOffsetFile, std::to_string(f.param)); break;
    case FaultKind::kSyncErrors: s = WriteControl(i, node::kTestFailSyncsFile, "1"); break;
    case FaultKind::kDelay: s = WriteControl(i, node::kTestDelayFile, std::to_string(f.param)); break;
    case FaultKind::kPowerLoss: s = LosePower(i); break;
    case FaultKind::kDiskFull: s = FillDisk(i); break;
    default: s = Rules(f, "-I"); break;
  }
  Log("apply " + FaultText(f) + (s.ok() ? "" : "  FAILED: " + s.ToString()));
  return s;
}

Status FaultInjector::Heal(const Fault& f) {
  const int i = f.nodes.empty() ? 0 : f.nodes[0];
  Status s;
  switch (f.kind) {
    case FaultKind::kPause: s = Signal(i, SIGCONT, "SIGCONT"); break;
    case FaultKind::kKill:
    case FaultKind::kPowerLoss: s = Restart(i); break;
    case FaultKind::kClockSkew: s = RemoveControl(i, node::kTestClockOffsetFile); break;
    case FaultKind::kSyncErrors: s = RemoveControl(i, node::kTestFailSyncsFile); break;
    case FaultKind::kDelay: s = RemoveControl(i, node::kTestDelayFile); break;
    case FaultKind::kDiskFull: s = EmptyDisk(i); break;
    default: s = Rules(f, "-D"); break;
  }
  Log("heal  " + FaultText(f) + (s.ok() ? "" : "  FAILED: " + s.ToString()));
  return s;
}

Status FaultInjector::HealEverything() {
  Status first;
  auto keep = [&first](Status s) {
    if (first.ok() && !s.ok()) first = s;
  };
  if (!o_.iptables.empty()) {
    for (const char* chain : {"INPUT", "OUTPUT"}) keep(Iptables("-F", {chain}));
  }
  for (int i = 0; i < static_cast<int>(o_.nodes.size()); ++i) {
    if (node(i).running()) ::kill(node(i).pid(), SIGCONT);
    keep(RemoveControl(i, node::kTestClockOffsetFile));
    keep(RemoveControl(i, node::kTestFailSyncsFile));
    keep(RemoveControl(i, node::kTestDelayFile));
    keep(RemoveControl(i, node::kTestPowerLossFile));
    keep(EmptyDisk(i));
    if (!node(i).running()) keep(Restart(i));
  }
  Log(std::string("heal everything") + (first.ok() ? "" : "  FAILED: " + first.ToString()));
  return first;
}

void FaultInjector::CheckForCrashes() {
  for (int i = 0; i < static_cast<int>(o_.nodes.size()); ++i) {
    if (killed_[static_cast<size_t>(i)] || node(i).running()) continue;
    const int status = node(i).last_wait_status();
    std::string what = node(i).id() + " exited on its own (wait status " + std::to_string(status) +
                       (WIFSIGNALED(status) ? ", signal " + std::to_string(WTERMSIG(status)) : "") +
                       "); log " + node(i).log_path() + " ends:\n" + node(i).LogTail(15);
    crashes_.push_back(what);
    Log("CRASH " + what);
    Status s = Restart(i);
    Log("restart " + node(i).id() + (s.ok() ? "" : "  FAILED: " + s.ToString()));
  }
}

}  // namespace kvring::test
