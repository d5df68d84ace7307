#include "node/test_hooks.h"

#include <algorithm>

namespace kvring::node {

bool TestHooksWanted(const NodeOptions& o) {
  return o.test_clock_offset_ms != 0 || o.test_fault_files || o.test_fail_syncs_after >= 0;
}

std::unique_ptr<base::ControlFile> TestHooks::ControlIn(const NodeOptions& options, const char* name,
                                                        int64_t fallback) {
  const std::string path = base::JoinPath(options.data_dir, name);
  if (!options.test_fault_files) return std::make_unique<base::ControlFile>("", fallback, environment_.clock);
  return std::make_unique<base::ControlFile>(path, fallback, environment_.clock);
}

TestHooks::TestHooks(const NodeOptions& options, const NodeEnvironment& base) : environment_(base) {
  if (!TestHooksWanted(options)) return;
  clock_ = std::make_unique<base::SkewedClock>(
      base.clock, ControlIn(options, kTestClockOffsetFile, options.test_clock_offset_ms));
  std::unique_ptr<base::ControlFile> failing;
  if (options.test_fault_files) failing = ControlIn(options, kTestFailSyncsFile, 0);
  env_ = std::make_unique<base::SyncFaultEnv>(base.env, std::move(failing), options.test_fail_syncs_after);
  environment_.clock = clock_.get();
  environment_.env = env_.get();
  if (options.test_fault_files) {
    delay_ = ControlIn(options, kTestDelayFile, 0);
    environment_.send_delay_ms = [delay = delay_] { return static_cast<uint64_t>(std::max<int64_t>(0, delay->Value())); };
  }
  if (base.logger != nullptr) {
    LOG_WARN(base.logger, "test hooks on (--test-*): wall clock offset %lld ms%s, fdatasync fails after %lld",
             static_cast<long long>(options.test_clock_offset_ms),
             options.test_fault_files ? ", steered by test-* files in the data directory" : "",
             static_cast<long long>(options.test_fail_syncs_after));
  }
}

}  // namespace kvring::node
