#include "node/test_hooks.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace kvring::node {

// Looks for the power-loss file every 50 ms; when it reads non-zero, removes it
// (a restart must not lose power again), cuts the files back and exits.
class PowerLossWatcher {
 public:
  PowerLossWatcher(std::unique_ptr<base::ControlFile> file, base::PowerLossEnv* env, base::Logger* logger)
      : file_(std::move(file)), env_(env), logger_(logger), thread_([this] { Run(); }) {}
  ~PowerLossWatcher() {
    stop_ = true;
    thread_.join();
  }

 private:
  void Run() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (file_->Value() != 0) LosePower();
    }
  }
  [[noreturn]] void LosePower() {
    ::unlink(file_->path().c_str());
    base::Status s = env_->PowerLoss();
    std::fprintf(stderr, "test hook: power lost (%s): every unsynced byte cut, exiting\n", s.ToString().c_str());
    if (logger_ != nullptr) LOG_WARN(logger_, "test hook: power lost (%s)", s.ToString().c_str());
    std::fflush(nullptr);
    ::_exit(kPowerLossExitStatus);
  }

  const std::unique_ptr<base::ControlFile> file_;
  base::PowerLossEnv* const env_;
  base::Logger* const logger_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

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
  base::Env* under = base.env;
  if (options.test_fault_files) {
    power_ = std::make_unique<base::PowerLossEnv>(base.env);
    under = power_.get();
  }
  env_ = std::make_unique<base::SyncFaultEnv>(under, std::move(failing), options.test_fail_syncs_after);
  environment_.clock = clock_.get();
  environment_.env = env_.get();
  if (options.test_fault_files) {
    delay_ = ControlIn(options, kTestDelayFile, 0);
    environment_.send_delay_ms = [delay = delay_] { return static_cast<uint64_t>(std::max<int64_t>(0, delay->Value())); };
    watcher_ = std::make_unique<PowerLossWatcher>(
        std::make_unique<base::ControlFile>(base::JoinPath(options.data_dir, kTestPowerLossFile), 0,
                                            environment_.clock, 50'000),
        power_.get(), base.logger);
  }
  if (base.logger != nullptr) {
    LOG_WARN(base.logger, "test hooks on (--test-*): wall clock offset %lld ms%s, fdatasync fails after %lld",
             static_cast<long long>(options.test_clock_offset_ms),
             options.test_fault_files ? ", steered by test-* files in the data directory" : "",
             static_cast<long long>(options.test_fail_syncs_after));
  }
}

TestHooks::~TestHooks() = default;

}  // namespace kvring::node
