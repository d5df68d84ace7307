#include "lsm/iterator.h"

namespace kvring::lsm {

Iterator::~Iterator() {
  for (auto& fn : cleanups_) fn();
}

void Iterator::RegisterCleanup(std::function<void()> fn) { cleanups_.push_back(std::move(fn)); }

namespace {

class EmptyIterator final : public Iterator {
 public:
  explicit EmptyIterator(base::Status s) : status_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  base::Status status() const override { return status_; }

 private:
  base::Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewEmptyIterator(base::Status status) {
  return std::make_unique<EmptyIterator>(std::move(status));
}

}  // namespace kvring::lsm
