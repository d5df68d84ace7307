#include "lsm/two_level_iterator.h"

#include <string>

namespace kvring::lsm {

namespace {

class TwoLevelIterator final : public Iterator {
 public:
  TwoLevelIterator(std::unique_ptr<Iterator> index_iter, BlockFunction block_function)
      : index_iter_(std::move(index_iter)), block_function_(std::move(block_function)) {}

  bool Valid() const override { return data_iter_ != nullptr && data_iter_->Valid() && status_.ok(); }

  void SeekToFirst() override {
    index_iter_->SeekToFirst();
    InitDataBlock();
    if (data_iter_ != nullptr) data_iter_->SeekToFirst();
    SkipEmptyBlocks();
  }

  void Seek(std::string_view target) override {
    index_iter_->Seek(target);
    InitDataBlock();
    if (data_iter_ != nullptr) data_iter_->Seek(target);
    SkipEmptyBlocks();
  }

  void Next() override {
    data_iter_->Next();
    SkipEmptyBlocks();
  }

  std::string_view key() const override { return data_iter_->key(); }
  std::string_view value() const override { return data_iter_->value(); }

  base::Status status() const override {
    if (!status_.ok()) return status_;
    base::Status s = index_iter_->status();
    if (!s.ok()) return s;
    if (data_iter_ != nullptr) return data_iter_->status();
    return base::Status::OK();
  }

 private:
  // Moves forward over exhausted blocks; stops (invalid) at the end or an error.
  void SkipEmptyBlocks() {
    while (data_iter_ == nullptr || !data_iter_->Valid()) {
      if (data_iter_ != nullptr && !data_iter_->status().ok()) {
        if (status_.ok()) status_ = data_iter_->status();
        data_iter_.reset();
        return;
      }
      if (!index_iter_->Valid()) {
        data_iter_.reset();
        return;
      }
      index_iter_->Next();
      InitDataBlock();
      if (data_iter_ != nullptr) data_iter_->SeekToFirst();
    }
  }

  // Points data_iter_ at the block the index is on (reusing the current one).
  void InitDataBlock() {
    if (!index_iter_->Valid()) {
      data_iter_.reset();
      return;
    }
    std::string_view handle = index_iter_->value();
    if (data_iter_ != nullptr && handle == block_value_) return;
    data_iter_.reset();  // release the old block before reading the next one
    data_iter_ = block_function_(handle);
    block_value_.assign(handle.data(), handle.size());
  }

  std::unique_ptr<Iterator> index_iter_;
  BlockFunction block_function_;
  std::unique_ptr<Iterator> data_iter_;
  std::string block_value_;  // the index value data_iter_ was made from
  base::Status status_;      // first error of a data block iterator
};

}  // namespace

std::unique_ptr<Iterator> NewTwoLevelIterator(std::unique_ptr<Iterator> index_iter, BlockFunction block_function) {
  return std::make_unique<TwoLevelIterator>(std::move(index_iter), std::move(block_function));
}

}  // namespace kvring::lsm
