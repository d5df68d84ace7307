// base/status.h — the error value that crosses every package boundary.
// A Status is OK or carries a code plus a message naming what failed, where and
// why ("sstable 000123.sst: block checksum mismatch at offset 40960"). Result<T>
// carries a value or a non-OK Status. No exceptions cross a package boundary.
// Thread safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kvring::base {

class [[nodiscard]] Status {
 public:
  // On-wire values (net/ sends them in error replies): never renumber.
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kNotSupported = 3,
    kInvalidArgument = 4,
    kIOError = 5,
    kNoSpace = 6,          // a device ran out of space (ENOSPC)
    kBusy = 7,             // a resource is held by someone else (lock file, stall)
    kTimedOut = 8,
    kUnavailable = 9,      // a peer or quorum could not be reached
    kAborted = 10,         // shutting down, connection lost
    kTooLarge = 11,        // an input over a configured limit
    kPermissionDenied = 12,  // the peer did not prove who it is, or may not do this
  };

  Status() = default;  // OK
  Status(Code code, std::string_view msg) : state_(std::make_shared<State>(State{code, std::string(msg)})) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view m) { return Status(Code::kNotFound, m); }
  static Status Corruption(std::string_view m) { return Status(Code::kCorruption, m); }
  static Status NotSupported(std::string_view m) { return Status(Code::kNotSupported, m); }
  static Status InvalidArgument(std::string_view m) { return Status(Code::kInvalidArgument, m); }
  static Status IOError(std::string_view m) { return Status(Code::kIOError, m); }
  static Status NoSpace(std::string_view m) { return Status(Code::kNoSpace, m); }
  static Status Busy(std::string_view m) { return Status(Code::kBusy, m); }
  static Status TimedOut(std::string_view m) { return Status(Code::kTimedOut, m); }
  static Status Unavailable(std::string_view m) { return Status(Code::kUnavailable, m); }
  static Status Aborted(std::string_view m) { return Status(Code::kAborted, m); }
  static Status TooLarge(std::string_view m) { return Status(Code::kTooLarge, m); }
  static Status PermissionDenied(std::string_view m) { return Status(Code::kPermissionDenied, m); }
  // Builds a Status from an errno value: ENOSPC maps to kNoSpace, ENOENT to
  // kNotFound, everything else to kIOError. `context` names the call and path.
  static Status FromErrno(std::string_view context, int err);

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsNoSpace() const { return code() == Code::kNoSpace; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsBusy() const { return code() == Code::kBusy; }
  bool IsTimedOut() const { return code() == Code::kTimedOut; }
  bool IsUnavailable() const { return code() == Code::kUnavailable; }
  bool IsAborted() const { return code() == Code::kAborted; }
  bool IsTooLarge() const { return code() == Code::kTooLarge; }
  bool IsPermissionDenied() const { return code() == Code::kPermissionDenied; }

  // The message alone ("" when OK).
  const std::string& message() const;
  // "Corruption: <message>" or "OK".
  std::string ToString() const;
  // The same code with "context: " prefixed to the message; OK stays OK.
  Status WithContext(std::string_view context) const;
  // Makes dropping an error explicit and searchable.
  void IgnoreError() const {}

  static const char* CodeName(Code code);

 private:
  struct State {
    Code code;
    std::string msg;
  };
  std::shared_ptr<const State> state_;  // null means OK: the success path costs nothing
};

// A value or an error. REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}            // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {     // NOLINT
    assert(!status_.ok());
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace kvring::base

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define KV_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::kvring::base::Status _kv_s = (expr);        \
    if (!_kv_s.ok()) return _kv_s;                \
  } while (0)
