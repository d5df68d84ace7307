#include "repl/range_stream.h"

#include <memory>

#include "base/coding.h"
#include "repl/messages.h"
#include "repl/stream_source.h"
#include "repl/value_format.h"

namespace kvring::repl {

using base::Status;

namespace {

ReplayThrottleOptions ThrottleOf(const StreamerOptions& o) {
  ReplayThrottleOptions t;
  t.max_rate = o.rate_bytes_per_sec;
  t.min_rate = std::max<uint64_t>(1, o.rate_bytes_per_sec / 16);
  // A batch is a megabyte merged on the receiver: its round trip is longer than a
  // replayed hint's, and only one much slower than that says the receiver is busy.
  t.slow_us = 200'000;
  return t;
}

}  // namespace

void EncodeSyncOfStored(std::string* dst, const std::vector<StreamEntry>& entries) {
  base::PutVarint32(dst, static_cast<uint32_t>(entries.size()));
  for (const StreamEntry& e : entries) {
    base::PutLengthPrefixed(dst, e.key);
    dst->push_back(1);  // the sender holds a set
    base::PutLengthPrefixed(dst, e.set);
  }
}

RangeStreamer::RangeStreamer(StreamerOptions options, lsm::DB* db, ReplicaStore* store, Transport* transport,
                             const FailureDetector* liveness, FindNode find, Executor* loop, Executor* io,
                             base::Clock* clock, base::Logger* logger)
    : options_(std::move(options)),
      db_(db),
      store_(store),
      transport_(transport),
      liveness_(liveness),
      find_(std::move(find)),
      loop_(loop),
      io_(io),
      clock_(clock),
      logger_(logger),
      throttle_(ThrottleOf(options_), clock),
      alive_(std::make_shared<bool>(true)) {}

RangeStreamer::~RangeStreamer() { *alive_ = false; }

void RangeStreamer::Reset(std::vector<StreamTask> tasks) {
  tasks_ = std::move(tasks);
  busy_.assign(tasks_.size(), false);
  retry_at_.assign(tasks_.size(), 0);
  resend_.assign(tasks_.size(), false);
  generation_++;
  last_error_.clear();
  for (StreamTask& t : tasks_) {
    if (t.progress.source.empty() && !t.sources.empty()) NextSource(&t);
  }
}

bool RangeStreamer::done() const {
  for (const StreamTask& t : tasks_) {
    if (!t.progress.done) return false;
  }
  return true;
}

void RangeStreamer::Pump() {
  size_t in_flight = 0;
  for (bool b : busy_) in_flight += b ? 1 : 0;
  const uint64_t now = clock_->NowMicros();
  for (size_t i = 0; i < tasks_.size() && in_flight < options_.parallel; i++) {
    if (busy_[i] || tasks_[i].progress.done || retry_at_[i] > now) continue;
    // A batch is charged what it weighs once read (OnRead): a range of a few keys
    // does not pay for a full batch.
    if (!throttle_.Take(0)) return;
    busy_[i] = true;
    in_flight++;
    StartBatch(i);
  }
}

bool RangeStreamer::Usable(const std::string& id) const {
  if (id == options_.self) return true;
  std::optional<ring::NodeInfo> node = find_(id);
  return node.has_value() && !liveness_->IsDown(*node);
}

void RangeStreamer::NextSource(StreamTask* task) {
  if (task->sources.empty()) return;
  size_t at = 0;
  for (size_t i = 0; i < task->sources.size(); i++) {
    if (task->sources[i] == task->progress.source) at = i + 1;
  }
  for (size_t k = 0; k < task->sources.size(); k++) {
    const std::string& candidate = task->sources[(at + k) % task->sources.size()];
    if (Usable(candidate)) {
      task->progress.source = candidate;
      return;
    }
  }
  task->progress.source = task->sources[at % task->sources.size()];
}

void RangeStreamer::StartBatch(size_t task) {
  const uint64_t generation = generation_;
  Read(task, [this, task, generation, alive = alive_](Status s, StreamBatch batch) {
    if (*alive) OnRead(task, generation, s, std::move(batch));
  });
}

void RangeStreamer::Read(size_t task, std::function<void(Status, StreamBatch)> done) {
  const StreamTask& t = tasks_[task];
  StreamReadRequest request{t.progress.range, t.after, options_.batch_bytes};
  if (t.progress.source == options_.self) {
    // Captures no `this`: the I/O pool may run it after the streamer is gone.
    io_->Post([db = db_, loop = loop_, request = std::move(request), done = std::move(done)]() mutable {
      auto batch = std::make_shared<StreamBatch>();
      Status s = ReadStreamBatch(db, request, batch.get());
      loop->Post([done = std::move(done), s, batch] { done(s, std::move(*batch)); });
    });
    return;
  }
  std::optional<ring::NodeInfo> node = find_(t.progress.source);
  if (!node) return loop_->Post([done, id = t.progress.source] {
    done(Status::NotFound("source " + id + " is not a member"), StreamBatch());
  });
  std::string body;
  EncodeStreamRead(&body, request);
  transport_->Call(*node, Op(ClusterOpcode::kStreamRead), std::move(body), options_.timeout_ms,
                   [done = std::move(done)](const Status& s, std::string_view payload) {
                     StreamBatch batch;
                     Status st = s.ok() ? DecodeStreamBatch(payload, &batch) : s;
                     done(st, std::move(batch));
                   });
}

void RangeStreamer::OnRead(size_t task, uint64_t generation, const Status& s, StreamBatch batch) {
  if (generation != generation_) return;
  if (!s.ok()) {
    return Fail(task, /*source_failed=*/true,
                "reading " + tasks_[task].progress.range.ToString() + " from " + tasks_[task].progress.source + ": " +
                    s.ToString());
  }
  throttle_.Charge(batch.bytes());
  auto kept = std::make_shared<StreamBatch>(std::move(batch));
  const uint64_t sent_us = clock_->NowMicros();
  Write(task, *kept, [this, task, generation, kept, sent_us, alive = alive_](Status st) {
    if (*alive) OnWritten(task, generation, st, *kept, sent_us);
  });
}

void RangeStreamer::Write(size_t task, const StreamBatch& batch, std::function<void(Status)> done) {
  const StreamTask& t = tasks_[task];
  if (batch.entries.empty()) return loop_->Post([done] { done(Status::OK()); });
  if (t.progress.destination == options_.self) return MergeLocally(batch, std::move(done));
  std::optional<ring::NodeInfo> node = find_(t.progress.destination);
  if (!node) return loop_->Post([done, id = t.progress.destination] {
    done(Status::NotFound("destination " + id + " is not a member"));
  });
  std::string body;
  EncodeSyncOfStored(&body, batch.entries);
  transport_->Call(*node, Op(ClusterOpcode::kAaeSync), std::move(body), options_.timeout_ms,
                   [done = std::move(done)](const Status& s, std::string_view) { done(s); });
}

void RangeStreamer::MergeLocally(const StreamBatch& batch, std::function<void(Status)> done) {
  std::vector<ReplicaStore::KeyedSet> entries;
  entries.reserve(batch.entries.size());
  for (const StreamEntry& e : batch.entries) {
    base::Result<SiblingSet> set = DecodeSiblingSet(e.set);
    if (!set.ok()) {
      return loop_->Post([done, s = set.status().WithContext("streamed set of key '" + e.key + "'")] { done(s); });
    }
    entries.push_back({e.key, std::move(set).value()});
  }
  store_->MergeBatch(loop_, std::move(entries), [done = std::move(done)](Status s, std::vector<SiblingSet>) { done(s); });
}

void RangeStreamer::OnWritten(size_t task, uint64_t generation, const Status& s, const StreamBatch& batch,
                              uint64_t sent_us) {
  if (generation != generation_) return;
  StreamTask& t = tasks_[task];
  if (!s.ok()) {
    resend_[task] = true;
    return Fail(task, /*source_failed=*/false,
                "writing " + t.progress.range.ToString() + " to " + t.progress.destination + ": " + s.ToString());
  }
  throttle_.OnReply(clock_->NowMicros() - sent_us);
  busy_[task] = false;
  last_error_.clear();
  if (resend_[task]) t.progress.bytes_again += batch.bytes();
  resend_[task] = false;
  t.progress.keys += batch.entries.size();
  t.progress.bytes += batch.bytes();
  if (!batch.entries.empty()) t.after = batch.entries.back().key;
  if (!batch.more) {
    t.progress.done = true;
    LOG_INFO(logger_, "stream of %s from %s to %s done: %llu keys, %llu bytes", t.progress.range.ToString().c_str(),
             t.progress.source.c_str(), t.progress.destination.c_str(),
             static_cast<unsigned long long>(t.progress.keys), static_cast<unsigned long long>(t.progress.bytes));
  }
  if (on_progress_) on_progress_();
  Pump();
}

void RangeStreamer::Fail(size_t task, bool source_failed, const std::string& why) {
  StreamTask& t = tasks_[task];
  busy_[task] = false;
  retry_at_[task] = clock_->NowMicros() + options_.retry_us;
  if (source_failed) NextSource(&t);
  if (why != last_error_) {
    const std::string next = source_failed ? " from " + t.progress.source : "";
    LOG_WARN(logger_, "stream: %s (retrying%s)", why.c_str(), next.c_str());
  }
  last_error_ = why;
}

}  // namespace kvring::repl
