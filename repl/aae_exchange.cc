#include "repl/aae_exchange.h"

#include <algorithm>
#include <map>

#include "repl/messages.h"

namespace kvring::repl {

using base::Status;

struct AaeExchange::Task {
  enum Kind { kRanges, kLeaves, kDigests, kSync } kind = kRanges;
  std::vector<std::pair<size_t, PrefixInterval>> entries;  // kRanges: (range, interval) each
  size_t range = 0;                                        // the others
  PrefixInterval interval;                                 // kLeaves, kDigests
  uint64_t listed_keys = 0;                                // kDigests: the larger side's count
  std::vector<std::string> keys;                           // kSync
  std::string parked_body;                                 // kSync held by the throttle
  std::shared_ptr<std::vector<SyncEntry>> parked_entries;
};

void ExchangeStats::Add(const ExchangeStats& o) {
  ranges_compared += o.ranges_compared;
  ranges_differing += o.ranges_differing;
  leaves_differing += o.leaves_differing;
  keys_differing += o.keys_differing;
  keys_sent += o.keys_sent;
  keys_received += o.keys_received;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  tree_bytes += o.tree_bytes;
  digest_bytes += o.digest_bytes;
  sync_bytes += o.sync_bytes;
  range_messages += o.range_messages;
  leaf_requests += o.leaf_requests;
  digest_requests += o.digest_requests;
  sync_requests += o.sync_requests;
}

AaeExchange::AaeExchange(ExchangeOptions options, ring::NodeInfo peer, std::vector<SharedRange> ranges,
                         LeafSource* leaves, ReplicaStore* store, Transport* transport, Executor* executor,
                         Executor* io, ReplayThrottle* throttle, base::Clock* clock)
    : options_(options),
      peer_(std::move(peer)),
      ranges_(std::move(ranges)),
      leaves_(leaves),
      store_(store),
      transport_(transport),
      executor_(executor),
      io_(io),
      throttle_(throttle),
      clock_(clock),
      pending_(ranges_.size(), 0),
      differed_(ranges_.size(), false),
      alive_(std::make_shared<bool>(true)) {}

AaeExchange::~AaeExchange() { *alive_ = false; }

void AaeExchange::Start(RangeDone range_done, Done done) {
  range_done_ = std::move(range_done);
  done_ = std::move(done);
  Task batch;
  for (size_t r = 0; r < ranges_.size(); r++) {
    for (const PrefixInterval& i : ranges_[r].intervals) {
      batch.entries.emplace_back(r, i);
      pending_[r]++;
      if (batch.entries.size() == options_.intervals_per_message) queue_.push_back(std::exchange(batch, Task()));
    }
  }
  if (!batch.entries.empty()) queue_.push_back(std::move(batch));
  // done never runs inside Start, even for an exchange with nothing to compare.
  executor_->Post([this, alive = alive_] {
    if (!*alive) return;
    Pump();
    MaybeDone();
  });
}

void AaeExchange::Queue(Task task) {
  if (task.kind == Task::kRanges) {
    for (const auto& e : task.entries) pending_[e.first]++;
  } else {
    pending_[task.range]++;
  }
  queue_.push_back(std::move(task));
}

void AaeExchange::Pump() {
  while (failed_.ok() && !queue_.empty() && in_flight_ < options_.window) {
    Task& next = queue_.front();
    const bool scan = next.kind == Task::kLeaves || next.kind == Task::kDigests;
    // A listing costs a leaf scan per ~16 keys it covers (a leaf's worth at 1M keys).
    const uint64_t cost = next.kind == Task::kSync && next.parked_entries ? next.parked_body.size()
                          : scan ? options_.leaf_scan_cost * std::max<uint64_t>(1, next.listed_keys / 16) : 0;
    if (cost > 0 && throttle_ != nullptr && !throttle_->Take(cost)) return;  // the next Pump goes on
    Task task = std::move(next);
    queue_.pop_front();
    Launch(std::move(task));
  }
}

void AaeExchange::Launch(Task task) {
  in_flight_++;
  switch (task.kind) {
    case Task::kRanges: return RangeBatch(std::move(task));
    case Task::kLeaves: return LeafStep(std::move(task));
    case Task::kDigests: return DigestStep(std::move(task));
    case Task::kSync:
      if (task.parked_entries) {
        auto entries = task.parked_entries;
        return SendSync(std::move(task), std::move(entries));
      }
      return SyncStep(std::move(task));
  }
}

void AaeExchange::Finish(const Task& task, const Status& status) {
  in_flight_--;
  if (!status.ok() && failed_.ok()) failed_ = status;
  if (failed_.ok()) {
    auto done_one = [this](size_t r) {
      if (--pending_[r] != 0) return;
      ranges_done_++;
      if (range_done_) range_done_(r, differed_[r]);
    };
    if (task.kind == Task::kRanges) {
      for (const auto& e : task.entries) done_one(e.first);
    } else {
      done_one(task.range);
    }
  }
  Pump();
  MaybeDone();
}

void AaeExchange::MaybeDone() {
  if (finished_ || in_flight_ > 0 || (failed_.ok() && !queue_.empty())) return;
  finished_ = true;
  Done done = std::move(done_);
  done(failed_);  // may destroy this exchange: nothing after it
}

void AaeExchange::OffLoop(std::function<Status()> work, std::function<void(const Status&)> then) {
  io_->Post([alive = alive_, ex = executor_, work = std::move(work), then = std::move(then)] {
    Status s = work();
    ex->Post([alive, s, then] {
      if (*alive) then(s);
    });
  });
}

void AaeExchange::Ask(uint8_t opcode, std::string body, uint64_t* kind_bytes,
                      std::function<void(const Status&, std::string_view)> then) {
  stats_.bytes_sent += body.size();
  *kind_bytes += body.size();
  const uint64_t sent_us = clock_->NowMicros();
  transport_->Call(peer_, opcode, std::move(body), options_.timeout_ms,
                   [this, alive = alive_, kind_bytes, sent_us, then = std::move(then)](const Status& s,
                                                                                      std::string_view p) {
                     if (!*alive) return;
                     // The round trips tell the throttle how busy the peer is.
                     if (s.ok() && throttle_ != nullptr) throttle_->OnReply(clock_->NowMicros() - sent_us);
                     stats_.bytes_received += p.size();
                     *kind_bytes += p.size();
                     then(s.ok() ? s : s.WithContext("anti-entropy with " + peer_.id), p);
                   });
}

void AaeExchange::RangeBatch(Task task) {
  auto mine = std::make_shared<std::vector<RangeHashEntry>>();
  auto work = [leaves = leaves_, entries = task.entries, mine] {
    std::vector<LeafHash> l;
    for (const auto& [r, interval] : entries) {
      KV_RETURN_IF_ERROR(leaves->Leaves(interval, &l));
      uint64_t keys = 0;
      for (const LeafHash& x : l) keys += x.keys;
      mine->push_back({interval, RangeHash(l), keys});
    }
    return Status::OK();
  };
  OffLoop(work, [this, task = std::move(task), mine](const Status& s) mutable {
    if (!s.ok()) return Finish(task, s);
    std::string body;
    EncodeRangeHashes(&body, *mine);
    stats_.range_messages++;
    Ask(Op(ClusterOpcode::kAaeRangeHashes), std::move(body), &stats_.tree_bytes,
        [this, task = std::move(task)](const Status& st, std::string_view payload) {
          std::vector<uint32_t> differing;
          Status d = st.ok() ? DecodeDifferingRanges(payload, task.entries.size(), &differing) : st;
          if (!d.ok()) return Finish(task, d);
          std::vector<bool> seen(ranges_.size(), false);
          for (const auto& e : task.entries) {
            if (!seen[e.first]) stats_.ranges_compared++, seen[e.first] = true;
          }
          for (uint32_t i : differing) {
            const auto& [r, interval] = task.entries[i];
            if (!differed_[r]) stats_.ranges_differing++, differed_[r] = true;
            Task leaves;
            leaves.kind = Task::kLeaves;
            leaves.range = r;
            leaves.interval = interval;
            Queue(std::move(leaves));
          }
          Finish(task, Status::OK());
        });
  });
}

void AaeExchange::LeafStep(Task task) {
  auto mine = std::make_shared<std::vector<LeafHash>>();
  OffLoop([leaves = leaves_, interval = task.interval, mine] { return leaves->Leaves(interval, mine.get()); },
          [this, task = std::move(task), mine](const Status& s) mutable {
            if (!s.ok()) return Finish(task, s);
            std::string body;
            EncodeInterval(&body, task.interval);
            stats_.leaf_requests++;
            Ask(Op(ClusterOpcode::kAaeLeafHashes), std::move(body), &stats_.tree_bytes,
                [this, task = std::move(task), mine](const Status& st, std::string_view payload) {
                  std::vector<LeafHash> theirs;
                  Status d = st.ok() ? DecodeLeafHashes(payload, &theirs) : st;
                  if (!d.ok()) return Finish(task, d);
                  for (const auto& [interval, keys] : Listings(*mine, theirs)) {
                    Task digests;
                    digests.kind = Task::kDigests;
                    digests.range = task.range;
                    digests.interval = interval;
                    digests.listed_keys = keys;
                    Queue(std::move(digests));
                  }
                  Finish(task, Status::OK());
                });
          });
}

std::vector<std::pair<PrefixInterval, uint64_t>> AaeExchange::Listings(const std::vector<LeafHash>& mine,
                                                                        const std::vector<LeafHash>& theirs) {
  // Leaves are matched by their bounds; a leaf the other side does not have
  // with the same bounds (its split points differ) is listed whole.
  std::map<std::pair<uint64_t, uint64_t>, const LeafHash*> by_bounds;
  for (const LeafHash& l : theirs) by_bounds[{l.begin, l.end}] = &l;
  std::vector<std::pair<PrefixInterval, uint64_t>> out;
  bool open = false;  // out.back() may still grow
  for (const LeafHash& l : mine) {  // in key order
    auto it = by_bounds.find({l.begin, l.end});
    const LeafHash* t = it == by_bounds.end() ? nullptr : it->second;
    if (t != nullptr) by_bounds.erase(it);
    const uint64_t keys = std::max(l.keys, t != nullptr ? t->keys : 0);
    const bool differs = t == nullptr ? l.keys > 0 : t->hash != l.hash || t->keys != l.keys;
    if (!differs) {
      if (keys > 0) open = false;  // an identical leaf with keys ends a run
      if (open) out.back().first.end = l.end;
      continue;
    }
    stats_.leaves_differing++;
    if (open && out.back().second + keys <= options_.keys_per_listing) {
      out.back().first.end = l.end;
      out.back().second += keys;
    } else {
      out.push_back({{l.begin, l.end}, keys});
      open = true;
    }
  }
  for (const auto& [bounds, l] : by_bounds) {
    if (l->keys == 0) continue;
    stats_.leaves_differing++;
    out.push_back({{bounds.first, bounds.second}, l->keys});
  }
  return out;
}

void AaeExchange::DigestStep(Task task) {
  auto mine = std::make_shared<std::vector<KeyDigestEntry>>();
  OffLoop([leaves = leaves_, interval = task.interval, mine] { return leaves->Digests(interval, mine.get()); },
          [this, task = std::move(task), mine](const Status& s) mutable {
            if (!s.ok()) return Finish(task, s);
            std::string body;
            EncodeInterval(&body, task.interval);
            stats_.digest_requests++;
            Ask(Op(ClusterOpcode::kAaeKeyDigests), std::move(body), &stats_.digest_bytes,
                [this, task = std::move(task), mine](const Status& st, std::string_view payload) {
                  std::vector<KeyDigestEntry> theirs;
                  Status d = st.ok() ? DecodeKeyDigests(payload, &theirs) : st;
                  if (!d.ok()) return Finish(task, d);
                  std::vector<std::string> keys = DifferingKeys(*mine, theirs);
                  stats_.keys_differing += keys.size();
                  for (size_t i = 0; i < keys.size(); i += options_.keys_per_sync) {
                    Task sync;
                    sync.kind = Task::kSync;
                    sync.range = task.range;
                    const size_t end = std::min(keys.size(), i + options_.keys_per_sync);
                    sync.keys.assign(keys.begin() + static_cast<ptrdiff_t>(i), keys.begin() + static_cast<ptrdiff_t>(end));
                    Queue(std::move(sync));
                  }
                  Finish(task, Status::OK());
                });
          });
}

std::vector<std::string> AaeExchange::DifferingKeys(const std::vector<KeyDigestEntry>& mine,
                                                    const std::vector<KeyDigestEntry>& theirs) {
  std::map<std::string_view, uint64_t> by_key;
  for (const KeyDigestEntry& e : theirs) by_key[e.key] = e.digest;
  std::vector<std::string> out;
  for (const KeyDigestEntry& e : mine) {
    auto it = by_key.find(e.key);
    if (it == by_key.end() || it->second != e.digest) out.push_back(e.key);
    if (it != by_key.end()) by_key.erase(it);
  }
  for (const auto& [key, digest] : by_key) out.emplace_back(key);
  return out;
}

void AaeExchange::SyncStep(Task task) {
  // This node's current set of each key (read now: a write since the listing is included).
  auto entries = std::make_shared<std::vector<SyncEntry>>(task.keys.size());
  auto left = std::make_shared<size_t>(task.keys.size() + 1);
  auto failed = std::make_shared<Status>();
  auto task_ptr = std::make_shared<Task>(std::move(task));
  auto one_done = [this, alive = alive_, entries, left, failed, task_ptr](const Status& s) {
    if (!*alive) return;
    if (!s.ok() && failed->ok()) *failed = s;
    if (--*left != 0) return;
    if (!failed->ok()) return Finish(*task_ptr, *failed);
    SendSync(std::move(*task_ptr), entries);
  };
  for (size_t i = 0; i < task_ptr->keys.size(); i++) {
    (*entries)[i].key = task_ptr->keys[i];
    store_->Read(executor_, task_ptr->keys[i], [entries, i, one_done](Status s, std::optional<SiblingSet> set) {
      if (s.ok() && set && !set->empty()) (*entries)[i].set = std::move(set);
      one_done(s);
    });
  }
  one_done(Status::OK());
}

void AaeExchange::SendSync(Task task, std::shared_ptr<std::vector<SyncEntry>> entries) {
  std::string body;
  if (task.parked_entries) {
    body = std::move(task.parked_body);
  } else {
    EncodeSync(&body, *entries);
    if (throttle_ != nullptr && !throttle_->Take(body.size())) {
      // Held back: it goes again, first in line, at a later Pump.
      task.parked_body = std::move(body);
      task.parked_entries = entries;
      in_flight_--;
      queue_.push_front(std::move(task));
      return;
    }
  }
  task.parked_entries.reset();
  for (const SyncEntry& e : *entries) stats_.keys_sent += e.set ? 1 : 0;
  stats_.sync_requests++;
  Ask(Op(ClusterOpcode::kAaeSync), std::move(body), &stats_.sync_bytes,
      [this, task = std::move(task), entries](const Status& st, std::string_view payload) mutable {
        if (!st.ok()) return Finish(task, st);
        MergeAnswers(std::move(task), std::move(entries), payload);
      });
}

void AaeExchange::MergeAnswers(Task task, std::shared_ptr<std::vector<SyncEntry>> entries, std::string_view payload) {
  std::vector<std::optional<SiblingSet>> answers;
  Status d = DecodeSyncReply(payload, entries->size(), &answers);
  for (size_t i = 0; d.ok() && i < answers.size(); i++) {
    if (answers[i]) d = CheckPeerSet(*answers[i], options_.peer_sets).WithContext("AAE_SYNC reply, key '" + (*entries)[i].key + "'");
  }
  if (!d.ok()) return Finish(task, d);
  std::vector<ReplicaStore::KeyedSet> merges;
  for (size_t i = 0; i < answers.size(); i++) {
    if (answers[i]) merges.push_back({(*entries)[i].key, std::move(*answers[i])});
  }
  stats_.keys_received += merges.size();
  store_->MergeBatch(executor_, std::move(merges),
                     [this, alive = alive_, task = std::move(task)](Status s, std::vector<SiblingSet>) mutable {
                       if (*alive) Finish(task, s);
                     });
}

}  // namespace kvring::repl
