#include "base/control_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace kvring::base {

ControlFile::ControlFile(std::string path, int64_t fallback, const Clock* clock, uint64_t interval_micros)
    : path_(std::move(path)), fallback_(fallback), clock_(clock), interval_micros_(interval_micros),
      value_(ReadNow()) {
  next_read_us_.store(clock_->NowMicros() + interval_micros_, std::memory_order_relaxed);
}

int64_t ControlFile::Value() {
  const uint64_t now = clock_->NowMicros();
  if (now >= next_read_us_.load(std::memory_order_acquire)) {
    std::unique_lock<std::mutex> lock(read_mu_, std::try_to_lock);
    if (lock.owns_lock() && now >= next_read_us_.load(std::memory_order_acquire)) {
      value_.store(ReadNow(), std::memory_order_release);
      next_read_us_.store(now + interval_micros_, std::memory_order_release);
    }
  }
  return value_.load(std::memory_order_acquire);
}

int64_t ControlFile::ReadNow() const {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fallback_;
  char buf[64];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  int64_t value = 0;
  if (n <= 0 || !ParseControlValue(std::string(buf, static_cast<size_t>(n)), &value)) return fallback_;
  return value;
}

bool ParseControlValue(const std::string& text, int64_t* value) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  if (begin == end) return false;
  const std::string digits = text.substr(begin, end - begin);
  char* stop = nullptr;
  errno = 0;
  long long v = std::strtoll(digits.c_str(), &stop, 10);
  if (errno != 0 || *stop != '\0') return false;
  *value = v;
  return true;
}

}  // namespace kvring::base
