#include "lsm/db_iter.h"

namespace kvring::lsm {

namespace {

class DBIter final : public Iterator {
 public:
  DBIter(std::unique_ptr<Iterator> internal, SequenceNumber sequence, std::optional<std::string> upper_bound)
      : internal_(std::move(internal)), sequence_(sequence), upper_bound_(std::move(upper_bound)) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    internal_->SeekToFirst();
    FindNextUserEntry(false);
  }
  void Seek(std::string_view target) override {
    seek_key_.clear();
    AppendInternalKey(&seek_key_, target, sequence_, kValueKindForSeek);
    internal_->Seek(seek_key_);
    FindNextUserEntry(false);
  }
  void Next() override {
    // Skip the rest of the current key's versions.
    skip_key_.assign(current_user_key_.data(), current_user_key_.size());
    internal_->Next();
    FindNextUserEntry(true);
  }
  std::string_view key() const override { return current_user_key_; }
  std::string_view value() const override { return internal_->value(); }
  base::Status status() const override { return status_.ok() ? internal_->status() : status_; }

 private:
  // Moves forward to the first visible, live entry whose user key is not hidden
  // (skipping: keys <= skip_key_ are older versions or deleted).
  void FindNextUserEntry(bool skipping) {
    valid_ = false;
    for (; internal_->Valid(); internal_->Next()) {
      ParsedInternalKey k;
      if (!ParseInternalKey(internal_->key(), &k)) {
        status_ = base::Status::Corruption("iterator: malformed internal key");
        return;
      }
      if (upper_bound_ && k.user_key.compare(*upper_bound_) >= 0) return;
      if (k.sequence > sequence_) continue;  // newer than our view
      if (skipping && k.user_key.compare(skip_key_) <= 0) continue;
      if (k.kind == ValueKind::kDeletion) {
        skip_key_.assign(k.user_key.data(), k.user_key.size());
        skipping = true;
        continue;
      }
      current_user_key_ = k.user_key;
      valid_ = true;
      return;
    }
  }

  const std::unique_ptr<Iterator> internal_;
  const SequenceNumber sequence_;
  const std::optional<std::string> upper_bound_;
  bool valid_ = false;
  std::string_view current_user_key_;  // points into internal_->key()
  std::string skip_key_;
  std::string seek_key_;
  base::Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence,
                                        std::optional<std::string> upper_bound) {
  return std::make_unique<DBIter>(std::move(internal), sequence, std::move(upper_bound));
}

}  // namespace kvring::lsm
