// test/util/test_util.h — helpers shared by the test suites: scratch directories,
// reproducible seeds, free loopback ports, and child processes stopped by pid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvring::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when the
// object dies (unless KV_KEEP_TEST_DIRS is set, for post-mortems).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The seed of a randomized test: $KV_SEED when set, else derived from the time.
// Prints "seed=N (rerun with KV_SEED=N)" so a failure can be replayed.
uint64_t TestSeed(const char* test_name);

// Lower-case hex of bytes, "0a 1b 2c" (Hex: for golden-byte tests, one byte per
// pair) or "0a1b2c" (HexDigits: for digests and test vectors).
std::string Hex(std::string_view bytes);
std::string HexDigits(std::string_view bytes);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int PickFreePort();

// Directory of the running test binary's build tree root (where kvnode etc. live):
// build/test/x_test → build/; a tool next to kvnode (build/kvnemesis) → build/.
std::string BuildDir();

// A child process started with fork/exec; killed by pid (SIGKILL) when the object
// dies if it is still running.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is the program path. Stdout/stderr go to log_path (appended) when set.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path = "");
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends a signal; returns false when no process runs.
  bool Signal(int sig);
  // Waits up to timeout_ms for exit; returns the wait status, or -1 on timeout.
  int Wait(int timeout_ms);
  // SIGKILL and reap.
  void Kill();

 private:
  pid_t pid_ = -1;
};

}  // namespace kvring::test
