#include "repl/replica_store.h"

#include "base/coding.h"
#include "repl/value_format.h"
#include "ring/token.h"

namespace kvring::repl {

using base::Status;

std::string StorageKey(std::string_view key) {
  std::string out(8 + key.size(), '\0');
  base::EncodeBigEndian64(out.data(), ring::TokenOf(key));
  std::memcpy(out.data() + 8, key.data(), key.size());
  return out;
}

bool UserKeyOf(std::string_view storage_key, std::string_view* key) {
  if (storage_key.size() < 8) return false;
  *key = storage_key.substr(8);
  return true;
}

ReplicaStore::ReplicaStore(lsm::DB* db, base::ThreadPool* io, std::string self, VersioningOptions versioning,
                           size_t max_set_bytes, base::Clock* clock, base::Logger* logger)
    : db_(db),
      io_(io),
      self_(std::move(self)),
      versioning_(std::move(versioning)),
      max_set_bytes_(max_set_bytes),
      clock_(clock),
      logger_(logger) {}

std::mutex& ReplicaStore::StripeFor(std::string_view storage_key) {
  // The token prefix is already a good hash of the key.
  return stripes_[base::DecodeBigEndian64(storage_key.data()) % kStripes];
}

Status ReplicaStore::LoadSet(const lsm::ReadOptions& options, std::string_view storage_key, SiblingSet* set,
                             bool* found) {
  std::string bytes;
  Status s = db_->Get(options, storage_key, &bytes);
  if (s.IsNotFound()) {
    *found = false;
    return Status::OK();
  }
  KV_RETURN_IF_ERROR(s);
  auto decoded = DecodeSiblingSet(bytes);
  if (!decoded.ok()) {
    std::string_view key;
    UserKeyOf(storage_key, &key);
    return decoded.status().WithContext("stored value of key '" + std::string(key) + "'");
  }
  *set = std::move(decoded).value();
  *found = true;
  return Status::OK();
}

void ReplicaStore::Read(Executor* ex, std::string_view key, ReadDone done) {
  std::string storage_key = StorageKey(key);
  lsm::ReadOptions inline_read;
  inline_read.no_io = true;
  SiblingSet set;
  bool found = false;
  Status s = LoadSet(inline_read, storage_key, &set, &found);
  if (!s.IsBusy()) {
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      stats_.reads_inline++;
    }
    std::optional<SiblingSet> result;
    if (s.ok() && found) result = std::move(set);
    ex->Post([done = std::move(done), s, result = std::move(result)]() mutable { done(s, std::move(result)); });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.reads_offloaded++;
  }
  io_->Submit([this, ex, storage_key = std::move(storage_key), done = std::move(done)]() mutable {
    SiblingSet loaded;
    bool hit = false;
    Status st = LoadSet(lsm::ReadOptions(), storage_key, &loaded, &hit);
    std::optional<SiblingSet> result;
    if (st.ok() && hit) result = std::move(loaded);
    ex->Post([done = std::move(done), st, result = std::move(result)]() mutable { done(st, std::move(result)); });
  });
}

void ReplicaStore::Coordinate(Executor* ex, std::string_view key, WriteKind kind, std::string_view value,
                              std::optional<VersionVector> context, AppliedDone applied, DurableDone durable) {
  Mutation mutate = [this, kind, value = std::string(value), context = std::move(context)](SiblingSet* set,
                                                                                          bool* changed) {
    const VersionVector& ctx = context ? *context : set->history();
    const uint64_t now = clock_->WallMicros();
    base::Result<WriteOutcome> outcome =
        kind == WriteKind::kPut ? set->Put(self_, ctx, value, now, versioning_) : set->Delete(self_, ctx, now, versioning_);
    if (!outcome.ok()) return outcome.status();
    if (outcome->over_warning) {
      LOG_WARN(logger_, "key has %zu siblings (warning at %zu, limit %zu): clients should resolve them",
               outcome->siblings, versioning_.warn_siblings, versioning_.max_siblings);
    }
    *changed = true;
    return Status::OK();
  };
  ReadModifyWrite(ex, StorageKey(key), std::move(mutate), /*limit_size=*/true, std::move(applied),
                  std::move(durable));
}

void ReplicaStore::Merge(Executor* ex, std::string_view key, SiblingSet incoming, AppliedDone applied,
                         DurableDone durable) {
  Mutation mutate = [this, incoming = std::move(incoming)](SiblingSet* set, bool* changed) {
    SiblingSet merged = SiblingSet::Merge(*set, incoming);
    if (merged == *set) {
      *changed = false;
      return Status::OK();
    }
    merged.Prune(versioning_.prune, clock_->WallMicros(), self_);
    *set = std::move(merged);
    *changed = true;
    return Status::OK();
  };
  ReadModifyWrite(ex, StorageKey(key), std::move(mutate), /*limit_size=*/false, std::move(applied),
                  std::move(durable));
}

void ReplicaStore::ReadModifyWrite(Executor* ex, std::string key, Mutation mutate, bool limit_size,
                                   AppliedDone applied, DurableDone durable) {
  if (TryReadModifyWrite(ex, key, mutate, limit_size, /*allow_io=*/false, applied, durable)) return;
  io_->Submit([this, ex, key = std::move(key), mutate = std::move(mutate), limit_size, applied = std::move(applied),
               durable = std::move(durable)] {
    TryReadModifyWrite(ex, key, mutate, limit_size, /*allow_io=*/true, applied, durable);
  });
}

bool ReplicaStore::TryReadModifyWrite(Executor* ex, const std::string& key, const Mutation& mutate,
                                      bool limit_size, bool allow_io, const AppliedDone& applied,
                                      const DurableDone& durable) {
  std::mutex& stripe = StripeFor(key);
  std::unique_lock<std::mutex> lock(stripe, std::defer_lock);
  if (allow_io) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return false;  // an I/O thread works on a key of this stripe: queue behind it there
  }
  lsm::ReadOptions read;
  read.no_io = !allow_io;
  SiblingSet set;
  bool found = false;
  Status s = LoadSet(read, key, &set, &found);
  if (s.IsBusy() && !allow_io) return false;
  bool changed = false;
  if (s.ok()) s = mutate(&set, &changed);
  if (!s.ok()) {
    lock.unlock();
    ex->Post([applied, s] { applied(s, SiblingSet()); });
    return true;
  }
  if (!changed) {
    lock.unlock();
    {
      std::lock_guard<std::mutex> g(stats_mu_);
      stats_.merges_unchanged++;
    }
    ex->Post([applied, durable, set = std::move(set)] {
      applied(Status::OK(), set);
      durable(Status::OK());
    });
    return true;
  }
  std::string bytes;
  EncodeSiblingSet(set, &bytes);
  if (limit_size && bytes.size() > max_set_bytes_) {
    lock.unlock();
    std::string_view user_key;
    UserKeyOf(key, &user_key);
    Status too_large = Status::TooLarge(
        "key '" + std::string(user_key) + "' would hold " + std::to_string(set.siblings().size()) +
        " siblings in " + std::to_string(bytes.size()) + " bytes, over the limit of " +
        std::to_string(max_set_bytes_) + " (a quarter of --max-frame); resolve them with a put that carries the "
        "context from a get");
    ex->Post([applied, too_large] { applied(too_large, SiblingSet()); });
    return true;
  }
  lsm::WriteBatch batch;
  batch.Put(key, bytes);
  s = db_->Write(lsm::WriteOptions(), &batch, [ex, durable](Status st) {
    ex->Post([durable, st] { durable(st); });
  });
  lock.unlock();
  {
    std::lock_guard<std::mutex> g(stats_mu_);
    stats_.writes++;
  }
  if (!s.ok()) {
    ex->Post([applied, s] { applied(s, SiblingSet()); });
  } else {
    ex->Post([applied, set = std::move(set)] { applied(Status::OK(), set); });
  }
  return true;
}

ReplicaStoreStats ReplicaStore::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

}  // namespace kvring::repl
