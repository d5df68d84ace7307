// net/buffer.h — a connection's input buffer: one contiguous byte array with a read
// position and a write position. Bytes are appended at the end by read(2) and
// consumed from the front by the frame parser; the unread tail is moved to the front
// only when room is needed, so parsing many frames per read costs no copying.
// Storage is reused across reads (no per-request allocation) and released again by
// Shrink() after an unusually large frame.
// Thread safety: needs external synchronization (one connection, one loop thread).
#pragma once

#include <cstddef>
#include <memory>

namespace kvring::net {

class Buffer {
 public:
  explicit Buffer(size_t initial_capacity = 16 * 1024) : initial_capacity_(initial_capacity) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // Unread bytes.
  const char* data() const { return data_.get() + read_; }
  size_t size() const { return write_ - read_; }
  bool empty() const { return read_ == write_; }
  size_t capacity() const { return capacity_; }

  // Marks n unread bytes as consumed. REQUIRES: n <= size().
  void Consume(size_t n);
  // Makes room for at least n more bytes at the end (compacting first, growing by
  // doubling when compacting is not enough); returns where to write them.
  char* PrepareWrite(size_t n);
  // Room at the end after PrepareWrite.
  size_t writable() const { return capacity_ - write_; }
  // Marks n bytes written at the PrepareWrite pointer as data. REQUIRES: n <= writable().
  void CommitWrite(size_t n);
  // Releases storage above the initial capacity when the buffer is empty.
  void Shrink();

 private:
  void Reallocate(size_t capacity);

  const size_t initial_capacity_;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace kvring::net
