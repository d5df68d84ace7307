// base/logging.h — leveled logging to a sink (stderr in production).
// A Logger is passed down from cmd/; there is no global logger object.
// Thread safety: thread-safe (each line is written with one write()).
#pragma once

#include <atomic>
#include <cstdarg>
#include <string>

namespace kvring::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug", "info", "warn", "error", "off"; false on anything else.
bool ParseLogLevel(const std::string& name, LogLevel* level);

class Logger {
 public:
  // fd: where lines go (2 = stderr). prefix: e.g. the node id, printed on each line.
  explicit Logger(int fd = 2, std::string prefix = "", LogLevel level = LogLevel::kInfo)
      : fd_(fd), prefix_(std::move(prefix)), level_(level) {}
  virtual ~Logger() = default;

  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  bool Enabled(LogLevel level) const { return level >= this->level(); }

  void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void LogV(LogLevel level, const char* fmt, va_list ap);

  // A logger that drops everything (tests, benchmarks).
  static Logger* Null();
  // A logger to stderr at info level, for binaries that have not built their own.
  static Logger* Stderr();

 protected:
  // Writes one formatted line; tests may capture lines by overriding.
  virtual void Write(const std::string& line);

 private:
  int fd_;
  std::string prefix_;
  std::atomic<LogLevel> level_;
};

}  // namespace kvring::base

#define KV_LOG(logger, lvl, ...)                                               \
  do {                                                                         \
    ::kvring::base::Logger* _kv_l = (logger);                                  \
    if (_kv_l != nullptr && _kv_l->Enabled(::kvring::base::LogLevel::lvl))     \
      _kv_l->Log(::kvring::base::LogLevel::lvl, __VA_ARGS__);                  \
  } while (0)
#define LOG_DEBUG(logger, ...) KV_LOG(logger, kDebug, __VA_ARGS__)
#define LOG_INFO(logger, ...) KV_LOG(logger, kInfo, __VA_ARGS__)
#define LOG_WARN(logger, ...) KV_LOG(logger, kWarn, __VA_ARGS__)
#define LOG_ERROR(logger, ...) KV_LOG(logger, kError, __VA_ARGS__)
