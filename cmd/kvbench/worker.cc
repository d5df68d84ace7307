#include "cmd/kvbench/worker.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "cmd/kvbench/mono_clock.h"
#include "cmd/kvbench/value_header.h"

namespace kvring::cmd::kvbench {

using base::Status;
using State = Connection::State;

namespace {

constexpr uint32_t kSlotBits = 20;  // options keep connections x pipeline below 2^20
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint16_t kGenMask = 0x7ff;  // keeps every tag below ProtocolCodec::kHelloTag
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kDrainNs = 5'000 * kMs;
constexpr uint64_t kMaxPublishNs = 200 * kMs;  // finer when the timeline is: a quarter of its step
constexpr uint64_t kIdlePollNs = 100 * kMs;
constexpr uint64_t kStagePollNs = 2 * kMs;  // waiting for the others to finish the preload
constexpr uint64_t kFirstBackoffNs = 100 * kMs;
constexpr uint64_t kMaxBackoffNs = 2'000 * kMs;
constexpr int kMaxEvents = 256;
constexpr char kConnectionLost[] = "connection lost";

}  // namespace

Worker::Worker(WorkerConfig config)
    : config_(std::move(config)), options_(*config_.options),
      pipeline_(static_cast<uint32_t>(options_.pipeline)), open_loop_(config_.rate > 0), rng_(config_.seed),
      events_(kMaxEvents), key_buf_(config_.workload->key_size(), '\0'),
      contexts_(options_.overwrite ? 1 : options_.keys),
      wall_offset_us_(WallMicros() - MonotonicNanos() / 1000) {
  const auto n = static_cast<uint32_t>(config_.link_targets.size());
  links_.resize(n);
  slots_.resize(static_cast<size_t>(n) * pipeline_);
  touched_.reserve(n);
  for (uint32_t li = 0; li < n; ++li) {
    Link& link = links_[li];
    link.conn = std::make_unique<Connection>(
        config_.link_targets[li],
        ProtocolCodec::Make(config_.link_targets[li]->protocol, options_.cluster, pipeline_, options_.overwrite,
                            options_.strict, &options_.credentials),
        options_.tls.get());
    link.first_slot = li * pipeline_;
    link.backoff_ns = kFirstBackoffNs;
    for (uint32_t i = pipeline_; i > 0; --i) {
      link.free.push_back(link.first_slot + i - 1);
      slots_[link.first_slot + i - 1].link = li;
    }
  }
  // Printable filler, so a value looks sane in kvctl; the header overwrites its front.
  value_buf_.resize(config_.workload->value_max());
  for (auto& c : value_buf_) c = static_cast<char>('a' + rng_.Uniform(26));
  // Worker i preloads keys i, i+T, i+2T, ...; without a preload it starts done.
  preload_next_ = options_.preload ? static_cast<uint64_t>(config_.index) : options_.keys;
  if (open_loop_) interval_ns_ = 1e9 / config_.rate;
  publish_ns_ = std::min(kMaxPublishNs, options_.timeline_ms * kMs / 4);
}

Worker::~Worker() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Worker::Run() {
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // open loop wants wake-ups on time, not 50 µs late
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  for (uint32_t li = 0; li < links_.size(); ++li) Connect(li);
  while (!finished_) {
    const uint64_t now = MonotonicNanos();
    Tick(now);
    if (finished_) break;
    Wait(now);
  }
  Publish();
  config_.progress->finished.store(true, std::memory_order_release);
}

// --- The loop ------------------------------------------------------------------------

void Worker::Tick(uint64_t now) {
  const int stage = config_.control->stage.load(std::memory_order_acquire);
  if (stage == RunControl::kAbort) {
    AbandonInFlight(now);
    finished_ = true;
    return;
  }
  if (stage == RunControl::kRun && stage_ == RunControl::kPreload) EnterRun();
  if (stage_ == RunControl::kPreload && !preload_done_ && preload_next_ >= options_.keys && in_flight_ == 0) {
    preload_done_ = true;
    config_.progress->preload_done.store(true, std::memory_order_release);
  }
  if (stage_ == RunControl::kRun) {
    if (issuing_ && (now >= end_ns_ || config_.control->stop.load(std::memory_order_relaxed))) BeginDrain(now);
    if (issuing_ && open_loop_) AssignDue(now);
    if (!issuing_ && (in_flight_ == 0 || now >= drain_deadline_ns_)) {
      AbandonInFlight(now);
      finished_ = true;
      return;
    }
  }
  if (down_links_ > 0 && now >= next_retry_ns_) RetryLinks(now);
  if (now >= next_publish_ns_) {
    Publish();
    next_publish_ns_ = now + publish_ns_;
  }
}

void Worker::EnterRun() {
  stage_ = RunControl::kRun;
  run_start_ns_ = config_.control->run_start_ns.load(std::memory_order_acquire);
  measure_start_ns_ = run_start_ns_ + config_.control->warmup_ns;
  if (config_.control->duration_ns > 0) end_ns_ = measure_start_ns_ + config_.control->duration_ns;
  issuing_ = true;
  for (uint32_t li = 0; li < links_.size(); ++li) FillAndFlush(li);
}

void Worker::BeginDrain(uint64_t now) {
  issuing_ = false;
  drain_deadline_ns_ = now + kDrainNs;
  if (!open_loop_) return;
  // Scheduled in the measured window but never sent: the target fell behind --rate.
  // (With --requests the window closes when the count is reached: nothing is owed.)
  const bool count_unsent = config_.request_quota == 0;
  for (uint32_t li = 0; li < links_.size(); ++li) {
    for (uint64_t j = links_[li].sent; j < links_[li].assigned; ++j) {
      if (count_unsent && LinkScheduledNs(li, j) >= measure_start_ns_) ++stats_.unsent;
    }
    links_[li].sent = links_[li].assigned;
  }
}

uint64_t Worker::NextWakeNs(uint64_t now) const {
  const bool waiting_for_run = stage_ == RunControl::kPreload && preload_done_;
  uint64_t wake = now + (waiting_for_run ? kStagePollNs : kIdlePollNs);
  if (stage_ == RunControl::kRun && issuing_) {
    wake = std::min(wake, end_ns_);
    if (open_loop_) wake = std::min(wake, ScheduledNs(next_index_));
  }
  if (stage_ == RunControl::kRun && !issuing_) wake = std::min(wake, drain_deadline_ns_);
  if (down_links_ > 0) wake = std::min(wake, next_retry_ns_);
  return std::min(wake, next_publish_ns_);
}

void Worker::Wait(uint64_t now) {
  const uint64_t wake = NextWakeNs(now);
  const uint64_t wait_ns = wake > now ? wake - now : 0;
  timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
  int n = ::epoll_pwait2(epoll_fd_, events_.data(), kMaxEvents, &ts, nullptr);
  if (n < 0 && errno == ENOSYS) {  // kernels before 5.11: millisecond timeouts
    n = ::epoll_wait(epoll_fd_, events_.data(), kMaxEvents, static_cast<int>((wait_ns + kMs - 1) / kMs));
  }
  for (int i = 0; i < n; ++i) HandleEvent(events_[i].data.u32, events_[i].events);
}

void Worker::HandleEvent(uint32_t li, uint32_t events) {
  Connection& c = *links_[li].conn;
  if (c.fd() < 0) return;  // failed earlier in this batch
  if (c.state() == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    Status s = c.FinishConnect();
    if (!s.ok()) return LinkFailed(li, s);
  } else if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 || ((events & EPOLLOUT) && c.ReadWantsWritable())) {
    bool closed = false;
    Status s = c.Read(&closed);
    if (s.ok()) s = ParseReplies(li, MonotonicNanos());
    if (s.ok() && closed) s = Status::Unavailable(c.target().text + ": connection closed by the server");
    if (!s.ok()) return LinkFailed(li, s);
  }
  FillAndFlush(li);
}

void Worker::Publish() {
  WorkerProgress* p = config_.progress;
  {
    base::MutexLock lock(&p->mu);
    p->cumulative = stats_.all.latency;
    p->interval.Merge(interval_);
  }
  interval_.Clear();
}

// --- Connections ---------------------------------------------------------------------

void Worker::Connect(uint32_t li) {
  Link& link = links_[li];
  Status s = link.conn->StartConnect();
  if (!s.ok()) return LinkFailed(li, s);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;  // writable = connected; trimmed by UpdateEpoll
  ev.data.u32 = li;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, link.conn->fd(), &ev) != 0) {
    return LinkFailed(li, Status::FromErrno("epoll_ctl", errno));
  }
  link.epoll_mask = ev.events;
  if (link.conn->state() != State::kConnecting) FillAndFlush(li);
}

void Worker::RetryLinks(uint64_t now) {
  next_retry_ns_ = UINT64_MAX;
  for (uint32_t li = 0; li < links_.size(); ++li) {
    Link& link = links_[li];
    if (link.conn->state() != State::kDown) continue;
    if (link.retry_at_ns <= now) {
      --down_links_;
      Connect(li);  // on failure LinkFailed counts it down again with a later retry
    } else {
      next_retry_ns_ = std::min(next_retry_ns_, link.retry_at_ns);
    }
  }
}

void Worker::LinkFailed(uint32_t li, const Status& why) {
  Link& link = links_[li];
  const uint64_t now = MonotonicNanos();
  const State was = link.conn->state();
  if (was == State::kConnecting || was == State::kHandshaking || link.conn->fd() < 0) ++stats_.connect_failures;
  for (uint32_t si = link.first_slot; si < link.first_slot + pipeline_; ++si) {
    if (slots_[si].busy) FailRequest(si, now, Outcome::kError, kConnectionLost, why.ToString());
  }
  if (link.conn->fd() >= 0 && link.epoll_mask != 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, link.conn->fd(), nullptr);
  link.epoll_mask = 0;
  link.conn->Close();
  link.retry_at_ns = now + link.backoff_ns;
  link.backoff_ns = std::min(link.backoff_ns * 2, kMaxBackoffNs);
  ++down_links_;
  next_retry_ns_ = std::min(next_retry_ns_, link.retry_at_ns);
}

void Worker::UpdateEpoll(uint32_t li) {
  Link& link = links_[li];
  if (link.conn->fd() < 0 || link.epoll_mask == 0) return;
  const bool want_out = link.conn->state() == State::kConnecting || link.conn->NeedsWritable();
  const uint32_t mask = EPOLLIN | (want_out ? EPOLLOUT : 0u);
  if (mask == link.epoll_mask) return;
  epoll_event ev{};
  ev.events = mask;
  ev.data.u32 = li;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, link.conn->fd(), &ev);
  link.epoll_mask = mask;
}

// --- Replies -------------------------------------------------------------------------

Status Worker::ParseReplies(uint32_t li, uint64_t now) {
  Connection& c = *links_[li].conn;
  for (;;) {
    Reply reply;
    size_t used = 0;
    Status error;
    net::ParseResult r = c.codec()->ParseReply(c.in_data(), c.in_size(), &reply, &used, &error);
    if (r == net::ParseResult::kNeedMore) return Status::OK();
    if (r == net::ParseResult::kError) return error.WithContext(c.target().text);
    KV_RETURN_IF_ERROR(OnReply(li, reply, now));
    c.Consume(used);
  }
}

Status Worker::OnReply(uint32_t li, const Reply& reply, uint64_t now) {
  Link& link = links_[li];
  if (reply.tag == ProtocolCodec::kHelloTag) {
    if (link.conn->state() != State::kHandshaking) return Status::Corruption("unexpected HELLO reply");
    if (reply.kind == ReplyKind::kHandshakeStep) {
      link.conn->codec()->AppendHandshakeStep(link.conn->out());
      return Status::OK();
    }
    if (reply.kind != ReplyKind::kHello) {
      return Status::Unavailable("HELLO refused: " + std::string(reply.error_kind) + ": " + std::string(reply.error));
    }
    link.conn->MarkReady();
    link.backoff_ns = kFirstBackoffNs;
    return Status::OK();
  }
  const uint32_t si = reply.tag & kSlotMask;
  if (si < link.first_slot || si >= link.first_slot + pipeline_ || !slots_[si].busy ||
      slots_[si].gen != (reply.tag >> kSlotBits)) {
    return Status::Corruption("reply for request id " + std::to_string(reply.tag) + ", which is not in flight");
  }
  Slot& s = slots_[si];
  if (reply.kind == ReplyKind::kError) {
    FailRequest(si, now, Outcome::kError, reply.error_kind, reply.error);
    return Status::OK();
  }
  return s.writing ? OnWriteReply(si, reply, now) : OnReadReply(si, reply, now);
}

Status Worker::OnReadReply(uint32_t si, const Reply& reply, uint64_t now) {
  Slot& s = slots_[si];
  if (reply.kind != ReplyKind::kValue && reply.kind != ReplyKind::kNotFound) {
    return Status::Corruption("a GET was answered like a PUT");
  }
  if (config_.tracker != nullptr) {
    uint64_t version = 0;  // not found, or not a value of this run
    reply.ForEachValue([&](std::string_view value) {
      ValueHeader h;
      if (DecodeValueHeader(value, &h) && h.run_id == config_.run_id) version = std::max(version, h.version);
    });
    auto verdict = config_.tracker->EndRead(s.key, s.read, version, now / 1000);
    if (s.measured) stats_.staleness.Add(verdict);
  }
  if (!options_.overwrite) contexts_.Store(s.key, reply.context);
  if (s.op == OpType::kRmw) {  // second phase: write back under the GET's context
    s.context.assign(reply.context.data(), reply.context.size());
    StartWrite(si, now);
    return Status::OK();
  }
  Finish(si, now, reply.kind == ReplyKind::kNotFound ? Outcome::kMiss : Outcome::kOk);
  return Status::OK();
}

Status Worker::OnWriteReply(uint32_t si, const Reply& reply, uint64_t now) {
  Slot& s = slots_[si];
  if (reply.kind != ReplyKind::kStored) return Status::Corruption("a PUT was answered like a GET");
  if (!options_.overwrite) contexts_.Store(s.key, reply.context);
  if (config_.tracker != nullptr) config_.tracker->EndWrite(s.key, config_.slot_base + si, s.write, true, now / 1000);
  Finish(si, now, Outcome::kOk);
  return Status::OK();
}

void Worker::FailRequest(uint32_t si, uint64_t now, Outcome outcome, std::string_view kind,
                         std::string_view message) {
  Slot& s = slots_[si];
  if (s.writing && config_.tracker != nullptr) {
    config_.tracker->EndWrite(s.key, config_.slot_base + si, s.write, false, now / 1000);
  }
  Finish(si, now, outcome, kind, message);
}

void Worker::Finish(uint32_t si, uint64_t now, Outcome outcome, std::string_view kind, std::string_view message) {
  Slot& s = slots_[si];
  const bool ok = outcome == Outcome::kOk || outcome == Outcome::kMiss;
  if (s.preload) {
    if (ok) {
      ++stats_.preload_ok;
    } else if (stats_.preload_errors++ == 0) {
      stats_.preload_error = std::string(kind) + ": " + std::string(message);
    }
    config_.progress->preloaded.store(stats_.preload_ok + stats_.preload_errors, std::memory_order_relaxed);
  } else {
    config_.progress->completed.store(++completed_, std::memory_order_relaxed);
    if (s.measured) {
      const uint64_t latency = now > s.start_ns ? now - s.start_ns : 0;
      if (ok) {
        stats_.RecordSuccess(s.op, latency, outcome == Outcome::kMiss);
        interval_.Record(latency);
      } else {
        stats_.RecordError(s.op, kind, message);
        config_.progress->errors.store(stats_.all.errors, std::memory_order_relaxed);
      }
      if (outcome != Outcome::kAbandoned) stats_.last_done_ns = std::max(stats_.last_done_ns, now);
    }
  }
  s.busy = false;
  s.context.clear();
  links_[s.link].free.push_back(si);
  --in_flight_;
}

void Worker::AbandonInFlight(uint64_t now) {
  for (uint32_t si = 0; si < slots_.size(); ++si) {
    if (slots_[si].busy) {
      FailRequest(si, now, Outcome::kAbandoned, "no reply", "no reply before the end of the run (drain timeout)");
    }
  }
}

// --- Requests ------------------------------------------------------------------------

void Worker::FillAndFlush(uint32_t li) {
  Link& link = links_[li];
  Connection& c = *link.conn;
  if (c.state() == State::kReady && !link.free.empty()) {
    const uint64_t now = MonotonicNanos();
    while (!link.free.empty() && IssueNext(li, now)) {
    }
  }
  if (c.fd() >= 0 && c.HasPendingOutput()) {
    Status s = c.Flush();
    if (!s.ok()) return LinkFailed(li, s);
  }
  UpdateEpoll(li);
}

bool Worker::IssueNext(uint32_t li, uint64_t now) {
  Link& link = links_[li];
  uint64_t start = now;
  bool preload = false, measured = false;
  if (stage_ == RunControl::kPreload) {
    if (preload_next_ >= options_.keys) return false;
    preload = true;
  } else {
    if (!issuing_) return false;
    if (open_loop_) {
      if (link.sent >= link.assigned) return false;
      start = LinkScheduledNs(li, link.sent++);
    }
    measured = start >= measure_start_ns_;
    if (measured && config_.request_quota > 0 && ++measured_issued_ >= config_.request_quota) BeginDrain(now);
  }
  const uint32_t si = link.free.back();
  link.free.pop_back();
  ++in_flight_;
  Slot& s = slots_[si];
  s.busy = true;
  s.gen = static_cast<uint16_t>((s.gen + 1) & kGenMask);
  s.preload = preload;
  s.measured = measured;
  s.start_ns = start;
  if (preload) {
    s.op = OpType::kPut;
    s.key = preload_next_;
    preload_next_ += static_cast<uint64_t>(options_.threads);
  } else {
    s.op = config_.workload->NextOp(&rng_);
    s.key = s.op == OpType::kPut ? config_.keys->NextWrite(&rng_) : config_.keys->NextRead(&rng_);
  }
  if (s.op == OpType::kPut) {
    const std::string_view cached = options_.overwrite ? std::string_view() : contexts_.Find(s.key);
    s.context.assign(cached.data(), cached.size());
    StartWrite(si, now);
  } else {
    StartRead(si, now);
  }
  return true;
}

uint32_t Worker::Tag(uint32_t si) const { return si | (static_cast<uint32_t>(slots_[si].gen) << kSlotBits); }

void Worker::StartRead(uint32_t si, uint64_t now) {
  Slot& s = slots_[si];
  s.writing = false;
  if (config_.tracker != nullptr) s.read = config_.tracker->BeginRead(s.key, now / 1000);
  config_.workload->FormatKey(s.key, key_buf_.data());
  links_[s.link].conn->codec()->AppendGet(links_[s.link].conn->out(), Tag(si), key_buf_, options_.r);
}

void Worker::StartWrite(uint32_t si, uint64_t now) {
  Slot& s = slots_[si];
  s.writing = true;
  ValueHeader header;
  header.run_id = config_.run_id;
  header.issued_us = wall_offset_us_ + now / 1000;
  if (config_.tracker != nullptr) {
    s.write = config_.tracker->BeginWrite(s.key, config_.slot_base + si);
    header.version = s.write.version;
  }
  const uint64_t size = config_.workload->NextValueSize(&rng_);
  if (size >= kValueHeaderBytes) EncodeValueHeader(value_buf_.data(), header);
  config_.workload->FormatKey(s.key, key_buf_.data());
  Connection& c = *links_[s.link].conn;
  c.codec()->AppendPut(c.out(), Tag(si), key_buf_, std::string_view(value_buf_.data(), size), s.context, options_.w);
}

uint64_t Worker::ScheduledNs(uint64_t index) const {
  return run_start_ns_ + static_cast<uint64_t>(std::llround(static_cast<double>(index) * interval_ns_));
}

void Worker::AssignDue(uint64_t now) {
  const uint64_t n = links_.size();
  while (ScheduledNs(next_index_) <= now) {
    const auto li = static_cast<uint32_t>(next_index_ % n);
    ++links_[li].assigned;
    ++next_index_;
    if (!links_[li].touched) {
      links_[li].touched = true;
      touched_.push_back(li);
    }
  }
  for (uint32_t li : touched_) {
    links_[li].touched = false;
    FillAndFlush(li);
  }
  touched_.clear();
}

}  // namespace kvring::cmd::kvbench
