#include "repl/replica_store.h"

#include <algorithm>
#include <map>

#include "base/coding.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
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

size_t ReplicaStore::StripeIndex(std::string_view storage_key) {
  // The token prefix is already a good hash of the key.
  return base::DecodeBigEndian64(storage_key.data()) % kStripes;
}

std::mutex& ReplicaStore::StripeFor(std::string_view storage_key) { return stripes_[StripeIndex(storage_key)]; }

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
    counters_.reads_inline.fetch_add(1, std::memory_order_relaxed);
    std::optional<SiblingSet> result;
    if (s.ok() && found) result = std::move(set);
    done(s, std::move(result));
    return;
  }
  counters_.reads_offloaded.fetch_add(1, std::memory_order_relaxed);
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
                              VersionVector context, bool overwrite, AppliedDone applied, DurableDone durable) {
  Mutation mutate = [this, kind, value = std::string(value), context = std::move(context), overwrite](
                        SiblingSet* set, bool* changed) {
    VersionVector ctx = context;
    if (overwrite) ctx.Merge(set->history());
    const uint64_t now = clock_->WallMicros();
    base::Result<WriteOutcome> outcome =
        kind == WriteKind::kPut ? set->Put(self_, ctx, value, now, versioning_) : set->Delete(self_, ctx, now, versioning_);
    if (!outcome.ok()) {
      if (outcome.status().IsTooLarge()) counters_.refused_siblings.fetch_add(1, std::memory_order_relaxed);
      return outcome.status();
    }
    if (outcome->over_warning) {
      LOG_WARN(logger_, "key has %zu siblings (warning at %zu, limit %zu): clients should resolve them",
               outcome->siblings, versioning_.warn_siblings, versioning_.max_siblings);
    }
    *changed = true;
    return Status::OK();
  };
  ReadModifyWrite(ex, StorageKey(key), std::move(mutate), Origin::kCoordinated, std::move(applied),
                  std::move(durable));
}

bool ReplicaStore::MergeInto(const SiblingSet& incoming, SiblingSet* set) const {
  SiblingSet merged = SiblingSet::Merge(*set, incoming);
  if (merged == *set) return false;
  merged.Prune(versioning_.prune, clock_->WallMicros(), self_);
  *set = std::move(merged);
  return true;
}

void ReplicaStore::Merge(Executor* ex, std::string_view key, SiblingSet incoming, AppliedDone applied,
                         DurableDone durable) {
  Mutation mutate = [this, incoming = std::move(incoming)](SiblingSet* set, bool* changed) {
    *changed = MergeInto(incoming, set);
    return Status::OK();
  };
  ReadModifyWrite(ex, StorageKey(key), std::move(mutate), Origin::kMerged, std::move(applied),
                  std::move(durable));
}

void ReplicaStore::ReadModifyWrite(Executor* ex, std::string key, Mutation mutate, Origin origin,
                                   AppliedDone applied, DurableDone durable) {
  if (TryReadModifyWrite(ex, key, mutate, origin, /*allow_io=*/false, applied, durable)) return;
  counters_.writes_offloaded.fetch_add(1, std::memory_order_relaxed);
  io_->Submit([this, ex, key = std::move(key), mutate = std::move(mutate), origin, applied = std::move(applied),
               durable = std::move(durable)] {
    TryReadModifyWrite(ex, key, mutate, origin, /*allow_io=*/true, applied, durable);
  });
}

namespace {

// Holds the engine's durability report back until the write's `applied` was
// delivered, so a caller always sees applied before durable. On the executor's
// thread the report may come while Write is still on the stack (sync modes that
// do not wait); on an I/O thread `applied` is posted only after Write returns,
// and the WAL syncer may report the write durable from its own thread before
// that (a reply sent then would lack the receipt applied fills in). A report
// that comes first is kept here and delivered by the writer right after applied.
struct DurabilityOrder {
  base::Mutex mu;
  bool applied_delivered GUARDED_BY(mu) = false;
  bool held GUARDED_BY(mu) = false;
  Status status GUARDED_BY(mu);

  // The engine's callback: false when the report was kept for the writer.
  bool PassOn(const Status& st) {
    base::MutexLock l(&mu);
    if (applied_delivered) return true;
    held = true;
    status = st;
    return false;
  }
  // The writer, once applied is delivered: true (and *st) when a report was kept.
  bool AppliedDelivered(Status* st) {
    base::MutexLock l(&mu);
    applied_delivered = true;
    if (!held) return false;
    *st = status;
    return true;
  }
};

}  // namespace

Status ReplicaStore::CheckSize(Origin origin, std::string_view storage_key, const SiblingSet& set, size_t bytes) {
  const bool merged = origin == Origin::kMerged;
  const size_t limit = merged ? 2 * max_set_bytes_ : max_set_bytes_;
  if (bytes <= limit) return Status::OK();
  (merged ? counters_.merges_refused_size : counters_.refused_size).fetch_add(1, std::memory_order_relaxed);
  std::string_view user_key;
  UserKeyOf(storage_key, &user_key);
  const std::string what = "key '" + std::string(user_key) + "' would hold " + std::to_string(set.siblings().size()) +
                           " siblings in " + std::to_string(bytes) + " bytes, over the limit of " +
                           std::to_string(limit);
  if (merged) {
    return Status::TooLarge("replica write refused: " + what +
                            " (half of --max-frame): a set this large could not be read back");
  }
  return Status::TooLarge(what + " (a quarter of --max-frame); resolve them with a put that carries the context "
                                 "from a get");
}

bool ReplicaStore::TryReadModifyWrite(Executor* ex, const std::string& key, const Mutation& mutate,
                                      Origin origin, bool allow_io, const AppliedDone& applied,
                                      const DurableDone& durable) {
  // On an I/O thread every completion goes through the executor; on the
  // executor's own thread (allow_io false) it may complete inline.
  const bool on_executor = !allow_io;
  auto finish_applied = [&](const Status& st, const SiblingSet& result) {
    if (on_executor) {
      applied(st, result);
    } else {
      ex->Post([applied, st, result] { applied(st, result); });
    }
  };
  auto finish_durable = [&](const Status& st) {
    if (on_executor) {
      durable(st);
    } else {
      ex->Post([durable, st] { durable(st); });
    }
  };
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
  if (s.ok() && !changed) {
    lock.unlock();
    counters_.merges_unchanged.fetch_add(1, std::memory_order_relaxed);
    finish_applied(Status::OK(), set);
    finish_durable(Status::OK());
    return true;
  }
  std::string bytes;
  if (s.ok()) {
    EncodeSiblingSet(set, &bytes);
    s = CheckSize(origin, key, set, bytes.size());
  }
  if (!s.ok()) {
    lock.unlock();
    finish_applied(s, SiblingSet());
    return true;
  }
  lsm::WriteBatch batch;
  batch.Put(key, bytes);
  auto order = std::make_shared<DurabilityOrder>();
  s = db_->Write(lsm::WriteOptions(), &batch, [ex, durable, order](Status st) {
    if (order->PassOn(st)) ex->Post([durable, st] { durable(st); });
  });
  lock.unlock();
  counters_.writes.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    finish_applied(s, SiblingSet());  // the engine never calls back for a failed write
    return true;
  }
  finish_applied(Status::OK(), set);
  Status durable_status;
  if (order->AppliedDelivered(&durable_status)) finish_durable(durable_status);
  return true;
}

ReplicaStoreStats ReplicaStore::stats() const {
  ReplicaStoreStats out;
  out.reads_inline = counters_.reads_inline.load(std::memory_order_relaxed);
  out.reads_offloaded = counters_.reads_offloaded.load(std::memory_order_relaxed);
  out.writes = counters_.writes.load(std::memory_order_relaxed);
  out.writes_offloaded = counters_.writes_offloaded.load(std::memory_order_relaxed);
  out.merges_unchanged = counters_.merges_unchanged.load(std::memory_order_relaxed);
  out.refused_siblings = counters_.refused_siblings.load(std::memory_order_relaxed);
  out.refused_size = counters_.refused_size.load(std::memory_order_relaxed);
  out.merges_refused_size = counters_.merges_refused_size.load(std::memory_order_relaxed);
  return out;
}

// A MergeBatch in flight: its results, and the chunk writes not yet durable
// (+1 for the run itself, so done cannot go out before the last chunk started).
struct ReplicaStore::BatchState {
  Executor* ex;
  BatchDone done;
  std::vector<SiblingSet> merged;
  base::Mutex mu;
  size_t pending GUARDED_BY(mu) = 1;
  Status first GUARDED_BY(mu);

  void Record(const Status& s) {
    base::MutexLock l(&mu);
    if (!s.ok() && first.ok()) first = s;
  }
  // One write became durable (or failed), or the run ended.
  void Finish(const Status& s) {
    Status result;
    {
      base::MutexLock l(&mu);
      if (!s.ok() && first.ok()) first = s;
      if (--pending != 0) return;
      result = first;
    }
    if (!result.ok()) merged.clear();
    ex->Post([done = std::move(done), result, merged = std::move(merged)]() mutable {
      done(result, std::move(merged));
    });
  }
};

void ReplicaStore::MergeBatch(Executor* ex, std::vector<KeyedSet> entries, BatchDone done) {
  auto state = std::make_shared<BatchState>();
  state->ex = ex;
  state->done = std::move(done);
  state->merged.resize(entries.size());
  // One chunk or less (an anti-entropy sync) is tried on the executor's thread
  // first: it completes there when every read hits memory and no stripe is busy,
  // as a one-key write does. A larger batch (a stream's) keeps the loop free.
  if (bulk_inline_ || entries.size() <= kMergeChunk) {
    Status s = MergeChunk(entries, 0, entries.size(), /*allow_io=*/bulk_inline_, state);
    if (!s.IsBusy()) {
      state->Record(s);
      return state->Finish(Status::OK());
    }
  }
  io_->Submit([this, entries = std::move(entries), state]() mutable { RunBatch(std::move(entries), state); });
}

void ReplicaStore::RunBatch(std::vector<KeyedSet> entries, const std::shared_ptr<BatchState>& state) {
  for (size_t begin = 0; begin < entries.size(); begin += kMergeChunk) {
    Status s = MergeChunk(entries, begin, std::min(entries.size(), begin + kMergeChunk), /*allow_io=*/true, state);
    if (!s.ok()) {
      state->Record(s);
      break;
    }
  }
  state->Finish(Status::OK());
}

Status ReplicaStore::MergeChunk(const std::vector<KeyedSet>& entries, size_t begin, size_t end, bool allow_io,
                                const std::shared_ptr<BatchState>& state) {
  std::vector<std::string> keys;
  std::vector<size_t> stripes;
  for (size_t i = begin; i < end; i++) {
    keys.push_back(StorageKey(entries[i].key));
    stripes.push_back(StripeIndex(keys.back()));
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t stripe : stripes) {
    locks.emplace_back(stripes_[stripe], std::defer_lock);
    if (allow_io) {
      locks.back().lock();
    } else if (!locks.back().try_lock()) {
      return Status::Busy("a stripe of the chunk is locked");  // an I/O thread works on one of its keys
    }
  }
  lsm::ReadOptions read;
  read.no_io = !allow_io;

  std::map<std::string_view, size_t> latest;  // a key of the chunk: its entry merged last
  lsm::WriteBatch batch;
  size_t changed = 0;
  for (size_t i = begin; i < end; i++) {
    const std::string& key = keys[i - begin];
    SiblingSet set;
    auto seen = latest.find(key);
    if (seen != latest.end()) {
      set = state->merged[seen->second];
    } else {
      bool found = false;
      KV_RETURN_IF_ERROR(LoadSet(read, key, &set, &found));  // Busy: the read needs I/O
    }
    latest[key] = i;
    if (!MergeInto(entries[i].set, &set)) {
      state->merged[i] = std::move(set);
      continue;
    }
    std::string bytes;
    EncodeSiblingSet(set, &bytes);
    KV_RETURN_IF_ERROR(CheckSize(Origin::kMerged, key, set, bytes.size()));
    batch.Put(key, bytes);
    state->merged[i] = std::move(set);
    changed++;
  }
  counters_.merges_unchanged.fetch_add((end - begin) - changed, std::memory_order_relaxed);
  if (changed == 0) return Status::OK();
  {
    base::MutexLock l(&state->mu);
    state->pending++;
  }
  Status s = db_->Write(lsm::WriteOptions(), &batch, [state](Status st) { state->Finish(st); });
  if (!s.ok()) {
    state->Finish(s);  // the engine never calls back for a failed write
    return s;
  }
  counters_.writes.fetch_add(changed, std::memory_order_relaxed);
  return s;
}

}  // namespace kvring::repl
