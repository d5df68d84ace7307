// test/lsm/table_test_util.h — helpers for the SSTable-layer tests: an in-memory
// file pair (a WritableFile that appends to a string, a RandomAccessFile that
// reads one), a sorted-vector iterator, and key makers.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/env.h"
#include "lsm/dbformat.h"
#include "lsm/iterator.h"

namespace kvring::lsm::testing {

class StringSink final : public base::WritableFile {
 public:
  base::Status Append(std::string_view data) override {
    contents.append(data.data(), data.size());
    return base::Status::OK();
  }
  base::Status Flush() override { return base::Status::OK(); }
  base::Status Sync() override { return base::Status::OK(); }
  base::Status Close() override { return base::Status::OK(); }
  std::string contents;
};

// Reads a copy of the bytes; counts reads so tests can see cache behaviour.
class StringSource final : public base::RandomAccessFile {
 public:
  explicit StringSource(std::string contents) : contents_(std::move(contents)) {}
  base::Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    ++reads_;
    if (offset >= contents_.size()) {
      *result = std::string_view(scratch, 0);
      return base::Status::OK();
    }
    n = std::min<size_t>(n, contents_.size() - offset);
    std::copy(contents_.data() + offset, contents_.data() + offset + n, scratch);
    *result = std::string_view(scratch, n);
    return base::Status::OK();
  }
  int reads() const { return reads_; }

 private:
  std::string contents_;
  mutable int reads_ = 0;
};

// An iterator over sorted (internal key, value) pairs.
class VectorIterator final : public Iterator {
 public:
  explicit VectorIterator(std::vector<std::pair<std::string, std::string>> entries,
                          base::Status error = base::Status::OK())
      : entries_(std::move(entries)), error_(std::move(error)) {}
  bool Valid() const override { return pos_ < entries_.size() && error_.ok(); }
  void SeekToFirst() override { pos_ = 0; }
  void Seek(std::string_view target) override {
    pos_ = 0;
    while (pos_ < entries_.size() && InternalKeyCompare(entries_[pos_].first, target) < 0) ++pos_;
  }
  void Next() override { ++pos_; }
  std::string_view key() const override { return entries_[pos_].first; }
  std::string_view value() const override { return entries_[pos_].second; }
  base::Status status() const override { return error_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  base::Status error_;
  size_t pos_ = 0;
};

// "key000123" style user keys, so neighbours share long prefixes.
inline std::string UserKey(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%08d", i);
  return buf;
}

inline std::string IKey(std::string_view user_key, SequenceNumber seq, ValueKind kind = ValueKind::kValue) {
  return MakeInternalKey(user_key, seq, kind);
}

// Comparator for std::map over internal keys.
struct InternalKeyLess {
  bool operator()(const std::string& a, const std::string& b) const { return InternalKeyCompare(a, b) < 0; }
};
using InternalMap = std::map<std::string, std::string, InternalKeyLess>;

}  // namespace kvring::lsm::testing
