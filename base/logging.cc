#include "base/logging.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace kvring::base {

bool ParseLogLevel(const std::string& name, LogLevel* level) {
  static const struct {
    const char* name;
    LogLevel level;
  } kLevels[] = {{"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo}, {"warn", LogLevel::kWarn},
                 {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (const auto& entry : kLevels) {
    if (name == entry.name) {
      *level = entry.level;
      return true;
    }
  }
  return false;
}

void Logger::Log(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  LogV(level, fmt, ap);
  va_end(ap);
}

void Logger::LogV(LogLevel level, const char* fmt, va_list ap) {
  if (!Enabled(level)) return;
  static const char* kNames[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts;
  gmtime_r(&ts.tv_sec, &parts);
  char head[96];
  int n = std::snprintf(head, sizeof(head), "%02d:%02d:%02d.%03ld %-5s %s%s", parts.tm_hour,
                        parts.tm_min, parts.tm_sec, ts.tv_nsec / 1'000'000,
                        kNames[static_cast<int>(level)], prefix_.c_str(), prefix_.empty() ? "" : " ");
  std::string line(head, n > 0 ? static_cast<size_t>(n) : 0);
  char body[1024];
  va_list copy;
  va_copy(copy, ap);
  int m = std::vsnprintf(body, sizeof(body), fmt, copy);
  va_end(copy);
  if (m >= static_cast<int>(sizeof(body))) {
    std::string big(static_cast<size_t>(m) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    big.resize(m);
    line += big;
  } else if (m > 0) {
    line.append(body, m);
  }
  line += '\n';
  Write(line);
}

void Logger::Write(const std::string& line) {
  if (fd_ < 0) return;
  ssize_t unused = ::write(fd_, line.data(), line.size());
  (void)unused;
}

Logger* Logger::Null() {
  static Logger* logger = new Logger(-1, "", LogLevel::kOff);
  return logger;
}

Logger* Logger::Stderr() {
  static Logger* logger = new Logger(2, "", LogLevel::kInfo);
  return logger;
}

}  // namespace kvring::base
