#include "repl/hint_store.h"

#include <algorithm>
#include <cassert>

#include "base/hash.h"

namespace kvring::repl {

using base::Status;

namespace {

constexpr uint64_t kMicrosPerSecond = 1'000'000;

// "hint record of owner 'n2', key 'k7'", or of the raw engine key when it has no owner.
std::string DescribeRecord(std::string_view engine_key) {
  std::string_view owner, key;
  if (!SplitHintKey(engine_key, &owner, &key)) return "hint record under engine key " + QuoteHintBytes(engine_key);
  return "hint record of owner " + QuoteHintBytes(owner) + ", key " + QuoteHintBytes(key);
}

// The owner an engine key belongs to ("" when it has none: such a record is damage).
std::string OwnerOf(std::string_view engine_key) {
  std::string_view owner, key;
  return SplitHintKey(engine_key, &owner, &key) ? std::string(owner) : std::string();
}

// A stored record: its value decoded, and a key that names an owner.
base::Result<HintRecord> DecodeStored(std::string_view engine_key, std::string_view value) {
  const std::string what = DescribeRecord(engine_key);
  if (OwnerOf(engine_key).empty()) return Status::Corruption(what + ": no owner id in the key");
  return DecodeHintRecord(value, what);
}

// A durability callback for writes nobody waits for: it only logs a failure.
lsm::WriteCallback LogIfFailed(base::Logger* logger, std::string what) {
  return [logger, what = std::move(what)](const Status& st) {
    if (!st.ok()) LOG_WARN(logger, "%s: %s", what.c_str(), st.ToString().c_str());
  };
}

}  // namespace

const char* AddOutcomeName(AddOutcome outcome) {
  switch (outcome) {
    case AddOutcome::kStored: return "stored";
    case AddOutcome::kDroppedOverOwnerBound: return "dropped_over_owner_bound";
    case AddOutcome::kDroppedOverTotalBound: return "dropped_over_total_bound";
    case AddOutcome::kFailed: return "failed";
  }
  return "?";
}

const char* RemoveOutcomeName(RemoveOutcome outcome) {
  switch (outcome) {
    case RemoveOutcome::kRemoved: return "removed";
    case RemoveOutcome::kKeptNewer: return "kept_newer";
    case RemoveOutcome::kAbsent: return "absent";
    case RemoveOutcome::kFailed: return "failed";
  }
  return "?";
}

// ---------------------------------------------------------------- open, close

HintStore::HintStore(const HintStoreOptions& options, std::unique_ptr<lsm::DB> db, base::Clock* clock,
                     base::ThreadPool* io, base::Logger* logger)
    : options_(options), db_(std::move(db)), clock_(clock), io_(io), logger_(logger) {}

base::Result<std::unique_ptr<HintStore>> HintStore::Open(const HintStoreOptions& options, base::Env* env,
                                                         base::Clock* clock, base::ThreadPool* io,
                                                         base::Logger* logger) {
  if (options.dir.empty()) return Status::InvalidArgument("hint store: no directory");
  if (env == nullptr || clock == nullptr || io == nullptr) {
    return Status::InvalidArgument("hint store: an Env, a Clock and an I/O pool are required");
  }
  if (options.window_micros == 0) return Status::InvalidArgument("hint store: window_micros must be > 0");
  if (logger == nullptr) logger = base::Logger::Null();
  lsm::Options engine;
  engine.env = env;
  engine.clock = clock;
  engine.logger = logger;
  engine.sync_mode = options.sync_mode;
  engine.sync_interval_ms = options.sync_interval_ms;
  engine.manual_wal_flush = options.manual_wal_flush;
  engine.open_on_full_disk = options.open_on_full_disk;
  engine.memtable_bytes = options.memtable_bytes;
  engine.block_cache_bytes = options.block_cache_bytes;
  engine.max_open_files = 64;
  std::unique_ptr<lsm::DB> db;
  Status s = lsm::DB::Open(engine, options.dir, &db);
  if (!s.ok()) return s.WithContext("open hint engine in " + options.dir);
  std::unique_ptr<HintStore> store(new HintStore(options, std::move(db), clock, io, logger));
  KV_RETURN_IF_ERROR(store->Rebuild());
  return store;
}

HintStore::~HintStore() {
  {
    base::MutexLock l(&offload_mu_);
    while (offloaded_ != 0) offload_cv_.Wait(&offload_mu_);
  }
  db_.reset();  // resolves every pending durability callback while the store is whole
}

Status HintStore::Rebuild() {
  const uint64_t started = clock_->NowMicros();
  lsm::ReadOptions read;
  read.fill_cache = false;
  std::unique_ptr<lsm::Iterator> it = db_->NewIterator(read);
  uint64_t max_seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    base::Result<HintRecord> record = DecodeStored(it->key(), it->value());
    if (!record.ok()) {
      NoteDamage(record.status());
      continue;
    }
    max_seq = std::max(max_seq, record->seq);
    Change change;
    change.owner = OwnerOf(it->key());
    change.added = *record;
    base::MutexLock l(&mu_);
    ApplyLocked(change, /*revert=*/false);
  }
  KV_RETURN_IF_ERROR(it->status().WithContext("scan hint engine in " + options_.dir));
  next_seq_.store(max_seq + 1);
  const HintTotals totals = Totals();
  LOG_INFO(logger_, "hints: %llu pending for %llu owners (%llu bytes to replay), rebuilt in %llu ms",
           static_cast<unsigned long long>(totals.pending), static_cast<unsigned long long>(totals.owners),
           static_cast<unsigned long long>(totals.pending_bytes),
           static_cast<unsigned long long>((clock_->NowMicros() - started) / 1000));
  return Status::OK();
}

// ---------------------------------------------------------------- records

bool HintStore::IsExpired(uint64_t first_us, uint64_t now_us) const {
  return now_us > first_us && now_us - first_us > options_.window_micros;
}

base::Mutex& HintStore::StripeFor(std::string_view engine_key) {
  return stripes_[base::Hash64(engine_key) % kStripes];
}

void HintStore::NoteDamage(const Status& damage) {
  damaged_seen_.fetch_add(1, std::memory_order_relaxed);
  damage_pending_.store(true, std::memory_order_release);
  LOG_ERROR(logger_, "%s (skipped)", damage.ToString().c_str());
}

Status HintStore::LoadRecord(bool no_io, const std::string& engine_key, Stored* out) {
  lsm::ReadOptions read;
  read.no_io = no_io;
  std::string value;
  Status s = db_->Get(read, engine_key, &value);
  if (s.IsNotFound()) {
    out->state = Stored::State::kAbsent;
    return Status::OK();
  }
  if (s.IsBusy()) return s;
  KV_RETURN_IF_ERROR(s.WithContext("read " + DescribeRecord(engine_key)));
  base::Result<HintRecord> record = DecodeStored(engine_key, value);
  if (!record.ok()) {
    out->state = Stored::State::kDamaged;
    out->damage = record.status();
    return Status::OK();
  }
  out->record = *record;
  out->state = IsExpired(record->first_us, clock_->WallMicros()) ? Stored::State::kExpired : Stored::State::kLive;
  return Status::OK();
}

void HintStore::WithRecord(std::string engine_key, RecordStep step, StepFailed failed) {
  if (TryWithRecord(engine_key, step, failed, /*allow_io=*/false)) return;
  offloaded_steps_.fetch_add(1, std::memory_order_relaxed);
  BeginOffload();
  io_->Submit([this, engine_key = std::move(engine_key), step = std::move(step), failed = std::move(failed)] {
    TryWithRecord(engine_key, step, failed, /*allow_io=*/true);
    EndOffload();  // the last touch of *this
  });
}

bool HintStore::TryWithRecord(const std::string& engine_key, const RecordStep& step, const StepFailed& failed,
                              bool allow_io) {
  base::Mutex& stripe = StripeFor(engine_key);
  if (allow_io) {
    stripe.Lock();
  } else if (!stripe.TryLock()) {
    return false;  // another thread works on this stripe (maybe waiting on the disk): queue behind it
  }
  const bool done = WithRecordLocked(engine_key, step, failed, allow_io);
  stripe.Unlock();
  return done;
}

bool HintStore::WithRecordLocked(const std::string& engine_key, const RecordStep& step, const StepFailed& failed,
                                 bool allow_io) {
  Stored stored;
  Status s = LoadRecord(/*no_io=*/!allow_io, engine_key, &stored);
  if (s.IsBusy() && !allow_io) return false;
  if (!s.ok()) {
    failed(s);
    return true;
  }
  step(stored);
  return true;
}

void HintStore::BeginOffload() {
  base::MutexLock l(&offload_mu_);
  offloaded_++;
}

void HintStore::EndOffload() {
  base::MutexLock l(&offload_mu_);
  // Notified under the lock: the destructor cannot destroy the condition
  // variable before notify_all returns.
  offloaded_--;
  offload_cv_.SignalAll();
}

Status HintStore::WriteOrRevert(lsm::WriteBatch* batch, const Change& change, lsm::WriteCallback on_durable) {
  Status s = db_->Write(lsm::WriteOptions(), batch, std::move(on_durable));
  if (!s.ok()) {
    base::MutexLock l(&mu_);
    ApplyLocked(change, /*revert=*/true);  // the engine applied nothing
  }
  return s;
}

// ---------------------------------------------------------------- Add

struct HintStore::Decision {
  enum class Action { kNone, kPut, kDelete } action = Action::kNone;
  HintRecord record;  // kPut: what to write
  AddOutcome outcome = AddOutcome::kStored;
  Change change;      // already applied to the accounting
};

void HintStore::Add(Executor* ex, std::string_view owner, std::string_view key, uint64_t bytes, AddDone done) {
  adds_.fetch_add(1, std::memory_order_relaxed);
  Status s = ValidateHintOwner(owner);
  if (!s.ok()) {
    ex->Post([done = std::move(done), s] { done(s, AddOutcome::kFailed); });
    return;
  }
  std::string engine_key = HintKey(owner, key);
  RecordStep step = [this, ex, engine_key, owner = std::string(owner), bytes, done](const Stored& stored) {
    AddStep(ex, engine_key, owner, bytes, stored, done);
  };
  StepFailed failed = [ex, done](Status st) { ex->Post([done, st] { done(st, AddOutcome::kFailed); }); };
  WithRecord(std::move(engine_key), std::move(step), std::move(failed));
}

HintStore::Decision HintStore::DecideAdd(const std::string& owner, uint64_t bytes, const Stored& stored,
                                         uint64_t now_us) {
  Decision d;
  d.change.owner = owner;
  base::MutexLock l(&mu_);
  OwnerState& state = owners_[owner];
  if (stored.state == Stored::State::kLive) {
    DecideUpdateLocked(state, stored.record, bytes, now_us, &d);
  } else {
    if (stored.state == Stored::State::kExpired) {
      // The old miss is past the window: it is dropped, and this one starts a new hint.
      d.change.removed = stored.record;
      d.change.counters.dropped_window = 1;
    }
    DecideNewLocked(state, bytes, now_us, &d);
  }
  ApplyLocked(d.change, /*revert=*/false);
  return d;
}

void HintStore::DecideUpdateLocked(const OwnerState& state, const HintRecord& old, uint64_t bytes,
                                   uint64_t now_us, Decision* d) {
  // The record already covers the key: a replay sends the current set, which
  // holds this write too. Raise seq so a replay listed before it keeps the record.
  HintRecord r = old;
  r.last_us = std::max(r.last_us, now_us);
  r.seq = next_seq_.fetch_add(1);
  if (bytes <= r.bytes || !OverBoundLocked(state, r.bytes, bytes)) {
    r.bytes = bytes;
  } else {
    d->change.counters.estimates_kept = 1;  // growing would pass a bound: keep the old estimate
  }
  d->change.removed = old;
  d->change.added = r;
  d->record = r;
  d->action = Decision::Action::kPut;
}

void HintStore::DecideNewLocked(const OwnerState& state, uint64_t bytes, uint64_t now_us, Decision* d) {
  const uint64_t freed = d->change.removed ? d->change.removed->bytes : 0;
  if (std::optional<AddOutcome> over = OverBoundLocked(state, freed, bytes)) {
    d->outcome = *over;
    if (*over == AddOutcome::kDroppedOverOwnerBound) {
      d->change.counters.dropped_owner = 1;
    } else {
      d->change.counters.dropped_total = 1;
    }
    d->action = d->change.removed ? Decision::Action::kDelete : Decision::Action::kNone;
    return;
  }
  d->record = HintRecord{now_us, now_us, bytes, next_seq_.fetch_add(1)};
  d->change.added = d->record;
  d->action = Decision::Action::kPut;
}

void HintStore::AddStep(Executor* ex, const std::string& engine_key, const std::string& owner, uint64_t bytes,
                        const Stored& stored, const AddDone& done) {
  if (stored.state == Stored::State::kDamaged) NoteDamage(stored.damage);  // overwritten when stored
  Decision d = DecideAdd(owner, bytes, stored, clock_->WallMicros());
  const AddOutcome outcome = d.outcome;
  if (d.action == Decision::Action::kNone) {
    ex->Post([done, outcome] { done(Status::OK(), outcome); });
    return;
  }
  lsm::WriteBatch batch;
  if (d.action == Decision::Action::kDelete) {
    // Dropped over a bound, and the expired record it met goes too. The caller
    // learns the outcome at once; the delete's durability does not matter (a
    // crash brings the expired record back, and it is dropped again).
    batch.Delete(engine_key);
    const std::string what = "drop expired " + DescribeRecord(engine_key);
    Status s = WriteOrRevert(&batch, d.change, LogIfFailed(logger_, what));
    if (!s.ok()) LOG_WARN(logger_, "%s: %s", what.c_str(), s.ToString().c_str());
    ex->Post([done, outcome] { done(Status::OK(), outcome); });
    return;
  }
  std::string value;
  EncodeHintRecord(d.record, &value);
  batch.Put(engine_key, value);
  Status s = WriteOrRevert(&batch, d.change, [ex, done, outcome](Status st) {
    ex->Post([done, outcome, st] { done(st, outcome); });
  });
  if (!s.ok()) {
    Status failed = s.WithContext("write " + DescribeRecord(engine_key));
    ex->Post([done, failed] { done(failed, AddOutcome::kFailed); });
  }
}

// ---------------------------------------------------------------- Remove

void HintStore::Remove(Executor* ex, const Hint& hint, RemoveDone done) {
  Status s = ValidateHintOwner(hint.owner);
  if (!s.ok()) {
    ex->Post([done = std::move(done), s] { done(s, RemoveOutcome::kFailed); });
    return;
  }
  std::string engine_key = HintKey(hint.owner, hint.key);
  RecordStep step = [this, ex, engine_key, owner = hint.owner, seq = hint.seq, done](const Stored& stored) {
    RemoveStep(ex, engine_key, owner, seq, stored, done);
  };
  StepFailed failed = [ex, done](Status st) { ex->Post([done, st] { done(st, RemoveOutcome::kFailed); }); };
  WithRecord(std::move(engine_key), std::move(step), std::move(failed));
}

void HintStore::RemoveStep(Executor* ex, const std::string& engine_key, const std::string& owner, uint64_t seq,
                           const Stored& stored, const RemoveDone& done) {
  auto finish = [ex, done](Status st, RemoveOutcome outcome) { ex->Post([done, st, outcome] { done(st, outcome); }); };
  switch (stored.state) {
    case Stored::State::kAbsent:
      return finish(Status::OK(), RemoveOutcome::kAbsent);
    case Stored::State::kDamaged:
      NoteDamage(stored.damage);
      return finish(stored.damage, RemoveOutcome::kFailed);
    case Stored::State::kLive:
    case Stored::State::kExpired:
      break;
  }
  if (stored.record.seq != seq) return finish(Status::OK(), RemoveOutcome::kKeptNewer);
  Change change;
  change.owner = owner;
  change.removed = stored.record;
  change.counters.replayed = 1;
  {
    base::MutexLock l(&mu_);
    ApplyLocked(change, /*revert=*/false);
  }
  lsm::WriteBatch batch;
  batch.Delete(engine_key);
  Status s = WriteOrRevert(&batch, change, [finish](Status st) { finish(st, RemoveOutcome::kRemoved); });
  if (!s.ok()) finish(s.WithContext("delete " + DescribeRecord(engine_key)), RemoveOutcome::kFailed);
}

// ---------------------------------------------------------------- List, Expire

Status HintStore::List(std::string_view owner, std::string_view after_key, size_t limit, std::vector<Hint>* out,
                       std::vector<Status>* damaged) {
  out->clear();
  KV_RETURN_IF_ERROR(ValidateHintOwner(owner));
  const std::string prefix = HintKey(owner, "");
  std::string upper(owner);
  upper.push_back(static_cast<char>(kHintOwnerTerminator + 1));  // just past every key of the owner
  lsm::ReadOptions read;
  read.fill_cache = false;
  read.upper_bound = &upper;
  std::unique_ptr<lsm::Iterator> it = db_->NewIterator(read);
  const std::string start = prefix + std::string(after_key);
  it->Seek(start);
  if (!after_key.empty() && it->Valid() && it->key() == start) it->Next();
  const uint64_t now = clock_->WallMicros();
  for (; it->Valid() && out->size() < limit; it->Next()) {
    base::Result<HintRecord> record = DecodeHintRecord(it->value(), DescribeRecord(it->key()));
    if (!record.ok()) {
      NoteDamage(record.status());
      if (damaged != nullptr) damaged->push_back(record.status());
      continue;
    }
    if (IsExpired(record->first_us, now)) {
      DropIfStale(std::string(it->key()), /*drop_damaged=*/false);
      continue;
    }
    const std::string_view key = it->key().substr(prefix.size());
    out->push_back(Hint{std::string(owner), std::string(key), record->first_us, record->last_us, record->bytes,
                        record->seq});
  }
  return it->status().WithContext("list hints of owner " + QuoteHintBytes(owner));
}

bool HintStore::DropIfStale(const std::string& engine_key, bool drop_damaged) {
  base::MutexLock stripe(&StripeFor(engine_key));
  Stored stored;
  Status s = LoadRecord(/*no_io=*/false, engine_key, &stored);
  if (!s.ok()) {
    LOG_WARN(logger_, "drop stale hint: %s", s.ToString().c_str());
    return false;
  }
  Change change;
  change.owner = OwnerOf(engine_key);
  if (stored.state == Stored::State::kExpired) {
    change.removed = stored.record;
    change.counters.dropped_window = 1;
  } else if (drop_damaged && stored.state == Stored::State::kDamaged && stored.damage.IsCorruption()) {
    change.counters.dropped_damaged = 1;  // never accounted: only the counter moves
    LOG_WARN(logger_, "dropping %s", stored.damage.ToString().c_str());
  } else {
    return false;  // refreshed by an Add since it was met, or kept
  }
  {
    base::MutexLock l(&mu_);
    ApplyLocked(change, /*revert=*/false);
  }
  lsm::WriteBatch batch;
  batch.Delete(engine_key);
  // The delete's durability does not matter: a crash brings the record back, and
  // it is dropped again.
  const std::string what = "drop " + DescribeRecord(engine_key);
  s = WriteOrRevert(&batch, change, LogIfFailed(logger_, what));
  if (!s.ok()) LOG_WARN(logger_, "%s: %s", what.c_str(), s.ToString().c_str());
  return s.ok();
}

Status HintStore::ExpireRange(const std::string& start, const std::string* upper, uint64_t* dropped) {
  lsm::ReadOptions read;
  read.fill_cache = false;
  read.upper_bound = upper;
  std::unique_ptr<lsm::Iterator> it = db_->NewIterator(read);
  const uint64_t now = clock_->WallMicros();
  for (it->Seek(start); it->Valid(); it->Next()) {
    base::Result<HintRecord> record = DecodeStored(it->key(), it->value());
    const bool stale = record.ok() ? IsExpired(record->first_us, now) : record.status().IsCorruption();
    if (stale && DropIfStale(std::string(it->key()), /*drop_damaged=*/true)) (*dropped)++;
  }
  return it->status().WithContext("expire hints in " + options_.dir);
}

Status HintStore::Expire() {
  const uint64_t now = clock_->WallMicros();
  const bool full = damage_pending_.exchange(false, std::memory_order_acq_rel);
  uint64_t dropped = 0;
  Status s;
  if (full) {
    s = ExpireRange("", nullptr, &dropped);
    if (!s.ok()) damage_pending_.store(true, std::memory_order_release);
  } else {
    std::vector<std::string> candidates;
    {
      base::MutexLock l(&mu_);
      for (const auto& [owner, state] : owners_) {
        // The oldest bucket's start is at or before every first_us in it.
        if (!state.first_secs.empty() && IsExpired(state.first_secs.begin()->first * kMicrosPerSecond, now)) {
          candidates.push_back(owner);
        }
      }
    }
    for (const std::string& owner : candidates) {
      std::string upper(owner);
      upper.push_back(static_cast<char>(kHintOwnerTerminator + 1));
      s = ExpireRange(HintKey(owner, ""), &upper, &dropped);
      if (!s.ok()) break;
    }
  }
  if (dropped > 0) LOG_INFO(logger_, "hints: dropped %llu past the window or damaged", static_cast<unsigned long long>(dropped));
  return s;
}

// ---------------------------------------------------------------- accounting

void HintStore::ApplyLocked(const Change& change, bool revert) {
  OwnerState& state = owners_[change.owner];
  auto count = [&](const HintRecord& r, bool plus) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t sec = r.first_us / kMicrosPerSecond;
    if (plus) {
      state.count++;
      state.bytes += r.bytes;
      total_bytes_ += r.bytes;
      state.first_secs[sec]++;
      return;
    }
    auto it = state.first_secs.find(sec);
    // Invariant: a record is taken out only after it was put in, with the same fields.
    assert(state.count > 0 && state.bytes >= r.bytes && total_bytes_ >= r.bytes && it != state.first_secs.end());
    state.count--;
    state.bytes -= r.bytes;
    total_bytes_ -= r.bytes;
    if (--it->second == 0) state.first_secs.erase(it);
  };
  if (change.removed) count(*change.removed, /*plus=*/revert);
  if (change.added) count(*change.added, /*plus=*/!revert);
  const uint64_t sign = revert ? ~uint64_t{0} : 1;  // -1 or +1, modulo 2^64
  Counters& c = state.counters;
  c.replayed += sign * change.counters.replayed;
  c.dropped_owner += sign * change.counters.dropped_owner;
  c.dropped_total += sign * change.counters.dropped_total;
  c.dropped_window += sign * change.counters.dropped_window;
  c.dropped_damaged += sign * change.counters.dropped_damaged;
  c.estimates_kept += sign * change.counters.estimates_kept;
}

std::optional<AddOutcome> HintStore::OverBoundLocked(const OwnerState& owner, uint64_t removed,
                                                     uint64_t added) const {
  if (owner.bytes - removed + added > options_.max_bytes_per_owner) return AddOutcome::kDroppedOverOwnerBound;
  if (total_bytes_ - removed + added > options_.max_bytes_total) return AddOutcome::kDroppedOverTotalBound;
  return std::nullopt;
}

HintStats HintStore::StatsLocked(const OwnerState& owner, uint64_t now_us) const {
  HintStats s;
  s.pending = owner.count;
  s.pending_bytes = owner.bytes;
  if (!owner.first_secs.empty()) {
    s.oldest_first_us = owner.first_secs.begin()->first * kMicrosPerSecond;
    s.oldest_age_micros = now_us > s.oldest_first_us ? now_us - s.oldest_first_us : 0;
  }
  s.replayed = owner.counters.replayed;
  s.dropped_over_owner_bound = owner.counters.dropped_owner;
  s.dropped_over_total_bound = owner.counters.dropped_total;
  s.dropped_window = owner.counters.dropped_window;
  s.dropped_damaged = owner.counters.dropped_damaged;
  s.estimates_kept = owner.counters.estimates_kept;
  return s;
}

std::vector<std::string> HintStore::Owners() const {
  std::vector<std::string> out;
  base::MutexLock l(&mu_);
  for (const auto& [owner, state] : owners_) {
    if (state.count > 0) out.push_back(owner);
  }
  return out;
}

HintStats HintStore::Stats(std::string_view owner) const {
  const uint64_t now = clock_->WallMicros();
  base::MutexLock l(&mu_);
  auto it = owners_.find(owner);
  return it == owners_.end() ? HintStats() : StatsLocked(it->second, now);
}

HintTotals HintStore::Totals() const {
  const uint64_t now = clock_->WallMicros();
  HintTotals t;
  {
    base::MutexLock l(&mu_);
    for (const auto& [owner, state] : owners_) {
      const HintStats s = StatsLocked(state, now);
      if (s.pending > 0) t.owners++;
      t.pending += s.pending;
      t.pending_bytes += s.pending_bytes;
      if (s.pending > 0 && (t.oldest_first_us == 0 || s.oldest_first_us < t.oldest_first_us)) {
        t.oldest_first_us = s.oldest_first_us;
        t.oldest_age_micros = s.oldest_age_micros;
      }
      t.replayed += s.replayed;
      t.dropped_over_owner_bound += s.dropped_over_owner_bound;
      t.dropped_over_total_bound += s.dropped_over_total_bound;
      t.dropped_window += s.dropped_window;
      t.dropped_damaged += s.dropped_damaged;
      t.estimates_kept += s.estimates_kept;
    }
  }
  t.adds = adds_.load(std::memory_order_relaxed);
  t.offloaded = offloaded_steps_.load(std::memory_order_relaxed);
  t.damaged_seen = damaged_seen_.load(std::memory_order_relaxed);
  return t;
}

Status HintStore::FlushWal() { return db_->FlushWal(); }

Status HintStore::Flush() { return db_->Flush(); }

}  // namespace kvring::repl
