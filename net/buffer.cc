#include "net/buffer.h"

#include <cassert>
#include <cstring>

namespace kvring::net {

void Buffer::Consume(size_t n) {
  assert(n <= size());
  read_ += n;
  if (read_ == write_) read_ = write_ = 0;  // empty: start over at the front, for free
}

char* Buffer::PrepareWrite(size_t n) {
  if (writable() >= n) return data_.get() + write_;
  const size_t unread = size();
  if (data_ != nullptr && capacity_ - unread >= n && read_ > 0) {
    std::memmove(data_.get(), data_.get() + read_, unread);
    read_ = 0;
    write_ = unread;
    return data_.get() + write_;
  }
  assert(initial_capacity_ > 0);
  size_t capacity = capacity_ == 0 ? initial_capacity_ : capacity_;
  while (capacity - unread < n) capacity *= 2;
  Reallocate(capacity);
  return data_.get() + write_;
}

void Buffer::CommitWrite(size_t n) {
  assert(n <= writable());
  write_ += n;
}

void Buffer::Shrink() {
  if (!empty() || capacity_ <= initial_capacity_) return;
  data_.reset();
  capacity_ = 0;
  read_ = write_ = 0;
}

void Buffer::Reallocate(size_t capacity) {
  std::unique_ptr<char[]> fresh(new char[capacity]);
  const size_t unread = size();
  if (unread > 0) std::memcpy(fresh.get(), data_.get() + read_, unread);
  data_ = std::move(fresh);
  capacity_ = capacity;
  read_ = 0;
  write_ = unread;
}

}  // namespace kvring::net
