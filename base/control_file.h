// base/control_file.h — an integer a test writes into a file while a process
// runs, re-read at most once per interval: the test-only fault hooks of kvnode
// (node/test_hooks.h: a wall-clock offset, failing fdatasyncs) are steered
// through such files by the nemesis harness (docs/operations.md, "Testing flags").
//
//   base::ControlFile offset(dir + "/test-clock-offset-ms", /*fallback=*/0, clock);
//   int64_t ms = offset.Value();   // the file's integer, or 0 while it is absent
//
// A missing, empty or malformed file reads as the fallback. The file is read
// with plain POSIX calls (not through an Env: the hooks wrap the Env).
// Thread safety: thread-safe; Value() never blocks on another reader (a caller
// that finds a re-read under way takes the previous value).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "base/clock.h"

namespace kvring::base {

class ControlFile {
 public:
  static constexpr uint64_t kDefaultIntervalMicros = 1'000'000;

  // *clock (monotonic time) must outlive this object.
  ControlFile(std::string path, int64_t fallback, const Clock* clock,
              uint64_t interval_micros = kDefaultIntervalMicros);
  ControlFile(const ControlFile&) = delete;
  ControlFile& operator=(const ControlFile&) = delete;

  // The current value (re-reading the file when the last read is older than the interval).
  int64_t Value();
  const std::string& path() const { return path_; }

 private:
  int64_t ReadNow() const;

  const std::string path_;
  const int64_t fallback_;
  const Clock* const clock_;
  const uint64_t interval_micros_;
  std::mutex read_mu_;  // one re-read at a time
  std::atomic<int64_t> value_;
  std::atomic<uint64_t> next_read_us_{0};
};

// Parses a whole file's text as a decimal integer (surrounding white space
// allowed); false when it is not one.
bool ParseControlValue(const std::string& text, int64_t* value);

}  // namespace kvring::base
