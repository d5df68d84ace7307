// node/test_hooks.h — the test-only fault hooks of a node (kvnode's hidden
// --test-* flags, docs/operations.md "Testing flags"): a wall-clock offset and
// failing fdatasyncs, for the nemesis harness (test/nemesis/) and tests of what
// a node does with a wrong clock or a dying disk. Without any --test-* flag
// Apply() hands back the environment unchanged: production runs never see them.
//
//   node::TestHooks hooks(options, environment);       // cmd/kvnode/main.cc
//   node::Node node(options, hooks.environment());
//
// With --test-fault-files the node re-reads, once a second, two files in its
// data directory: test-clock-offset-ms (an integer: the wall-clock offset, which
// then replaces --test-clock-offset-ms), test-fail-syncs (non-zero: every
// fdatasync fails with EIO) and test-delay-ms (every node-to-node call this node
// sends waits that long first: a slow link out of it). A missing file means the
// flag's value (no delay for the last). And a fourth, looked for every 50 ms:
// test-power-loss (non-zero: the node loses power: the file is removed, every
// file the node wrote is cut back to what it had fdatasynced
// (base/power_loss_env.h) and the process exits at once with status 137).
// Thread safety: built once before the node; the parts are thread-safe.
#pragma once

#include <memory>

#include "base/power_loss_env.h"
#include "base/skewed_clock.h"
#include "base/sync_fault_env.h"
#include "node/node.h"
#include "node/node_options.h"

namespace kvring::node {

// The control files' names under the data directory.
inline constexpr char kTestClockOffsetFile[] = "test-clock-offset-ms";
inline constexpr char kTestFailSyncsFile[] = "test-fail-syncs";
inline constexpr char kTestDelayFile[] = "test-delay-ms";
inline constexpr char kTestPowerLossFile[] = "test-power-loss";
// The exit status of a node that lost power through kTestPowerLossFile.
inline constexpr int kPowerLossExitStatus = 137;

// True when any --test-* hook is asked for.
bool TestHooksWanted(const NodeOptions& options);

class PowerLossWatcher;

class TestHooks {
 public:
  // *base's parts must outlive this object, which must outlive the node.
  TestHooks(const NodeOptions& options, const NodeEnvironment& base);
  ~TestHooks();  // stops the power-loss watcher
  TestHooks(const TestHooks&) = delete;
  TestHooks& operator=(const TestHooks&) = delete;

  // base with the clock and Env replaced where a hook asks for it.
  const NodeEnvironment& environment() const { return environment_; }

 private:
  std::unique_ptr<base::ControlFile> ControlIn(const NodeOptions& options, const char* name, int64_t fallback);

  NodeEnvironment environment_;
  std::unique_ptr<base::SkewedClock> clock_;
  std::unique_ptr<base::SyncFaultEnv> env_;
  std::shared_ptr<base::ControlFile> delay_;
  std::unique_ptr<base::PowerLossEnv> power_;
  std::unique_ptr<PowerLossWatcher> watcher_;
};

}  // namespace kvring::node
