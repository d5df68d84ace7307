// test/util/nemesis_injector.h — applies and heals the nemesis's faults
// (test/util/nemesis_faults.h) on real kvnode processes: iptables rules in the
// run's private network namespace, SIGSTOP/SIGCONT and kill -9/restart by pid,
// and the nodes' test-only control files (node/test_hooks.h: clock offset,
// failing fdatasync), and filling a tmpfs data directory. Every action is
// written to the fault log, one line each, with the time since the run began.
// It also notices a node that exited when no fault killed it (a crash: a bug),
// records it and starts it again so the run goes on.
// Thread safety: needs external synchronization (the harness's fault thread
// owns it, and the processes, until the workload ends).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "test/util/kvnode_process.h"
#include "test/util/nemesis_faults.h"

namespace kvring::test {

struct FaultInjectorOptions {
  std::vector<KvnodeProcess*> nodes;   // must outlive the injector
  std::vector<std::string> hosts;      // node i's address (for iptables rules)
  std::string iptables;                // path; empty: no network faults
  std::function<void(const std::string&)> log;  // one line of the fault log
};

class FaultInjector {
 public:
  explicit FaultInjector(FaultInjectorOptions options) : o_(std::move(options)) {}
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  base::Status Apply(const Fault& fault);
  base::Status Heal(const Fault& fault);
  // Removes every rule, resumes, restarts, resets every control file and empties
  // every filled disk, whatever is active.
  base::Status HealEverything();
  // Restarts nodes that exited although no fault killed them; each is recorded.
  void CheckForCrashes();

  // "n3 exited with status 134 at 12.3 s; log ends: ..." per crash seen.
  const std::vector<std::string>& crashes() const { return crashes_; }
  uint64_t applied() const { return applied_; }

 private:
  KvnodeProcess& node(int i) { return *o_.nodes[static_cast<size_t>(i)]; }
  base::Status Iptables(const std::string& op, const std::vector<std::string>& rule);
  base::Status Rules(const Fault& fault, const std::string& op);
  base::Status Signal(int i, int sig, const char* what);
  base::Status WriteControl(int i, const char* name, const std::string& value);
  base::Status RemoveControl(int i, const char* name);
  base::Status FillDisk(int i);
  base::Status EmptyDisk(int i);
  base::Status Restart(int i);
  // Writes the node's power-loss file and waits until it exited (it then counts as killed).
  base::Status LosePower(int i);
  void Log(const std::string& line) { if (o_.log) o_.log(line); }

  const FaultInjectorOptions o_;
  std::vector<bool> killed_ = std::vector<bool>(o_.nodes.size(), false);  // by a kill fault, not yet restarted
  std::vector<std::string> crashes_;
  uint64_t applied_ = 0;
};

// The file a disk-full fault writes into a node's data directory.
inline constexpr char kDiskFillFile[] = "nemesis-fill";

}  // namespace kvring::test
