#include "repl/anti_entropy.h"

#include <algorithm>

namespace kvring::repl {

using base::Status;

AntiEntropy::AntiEntropy(AntiEntropyOptions options, LeafSource* leaves, ReplicaStore* store, HintStore* hints,
                         const FailureDetector* liveness, ring::MembershipView* view, Transport* transport,
                         Executor* executor, Executor* io, base::Env* env, base::Clock* clock, base::Logger* logger)
    : options_(std::move(options)),
      leaves_(leaves),
      store_(store),
      hints_(hints),
      liveness_(liveness),
      view_(view),
      transport_(transport),
      executor_(executor),
      io_(io),
      env_(env),
      clock_(clock),
      logger_(logger),
      throttle_({.max_rate = options_.rate_bytes_per_sec,
                 .min_rate = std::max<uint64_t>(std::min<uint64_t>(options_.rate_bytes_per_sec, 1ull << 20),
                                                options_.rate_bytes_per_sec / 4)},
                clock),
      cycle_start_wall_us_(clock->WallMicros()),
      saver_(options_.state_path.empty()
                 ? nullptr
                 : std::make_unique<FileSaver>(options_.state_path, "repair job", env, io, logger)),
      alive_(std::make_shared<bool>(true)) {}

AntiEntropy::~AntiEntropy() { *alive_ = false; }

void AntiEntropy::Load() {
  if (options_.state_path.empty()) return;
  RepairJobState state;
  Status s = LoadRepairJobState(env_, options_.state_path, &state);
  if (s.IsNotFound()) return;
  if (!s.ok()) {
    LOG_WARN(logger_, "anti-entropy: ignoring the repair state (%s): a new repair starts from scratch",
             s.ToString().c_str());
    return;
  }
  job_ = std::move(state);
  if (job_.progress.state != RepairState::kRunning) return;
  job_run_started_us_ = clock_->NowMicros();
  LOG_INFO(logger_, "anti-entropy: resuming repair job %llu: %zu of %llu ranges done before the restart",
           static_cast<unsigned long long>(job_.progress.job), job_.done.size(),
           static_cast<unsigned long long>(job_.progress.ranges_total));
}

std::string AntiEntropy::Unready(const std::string& peer) const {
  const Liveness l = liveness_->StateOf(peer);
  if (l != Liveness::kUp) return l == Liveness::kDown ? "down" : "suspect";
  if (hints_ != nullptr) {
    const uint64_t pending = hints_->Stats(peer).pending;
    if (pending > 0) return std::to_string(pending) + " hints pending for it (replayed first)";
  }
  return {};
}

void AntiEntropy::Tick() {
  const uint64_t now = clock_->NowMicros();
  if (exchange_ != nullptr) {
    exchange_->Pump();
    if (job_.progress.state == RepairState::kRunning) Persist(false);
    return;
  }
  if (job_.progress.state == RepairState::kRunning) TickJob(now);
  if (exchange_ == nullptr) TickAutomatic(now);
}

std::vector<std::string> AntiEntropy::JobPeers(const ring::Ring& ring) const {
  if (job_.request.peer.empty()) return CoReplicas(ring, options_.self);
  return {job_.request.peer};
}

std::vector<SharedRange> AntiEntropy::JobRanges(const ring::Ring& ring, const std::string& peer) const {
  std::vector<SharedRange> ranges = SharedRanges(ring, options_.self, peer);
  if (job_.request.range) ranges = ClipRanges(ranges, *job_.request.range);
  std::erase_if(ranges, [&](const SharedRange& r) { return job_.done.count({peer, r.range.end}) != 0; });
  return ranges;
}

void AntiEntropy::TickJob(uint64_t now) {
  auto ring = view_->Current();
  std::string waiting;
  bool remaining = false;
  for (const std::string& peer : JobPeers(*ring)) {
    std::vector<SharedRange> ranges = JobRanges(*ring, peer);
    if (ranges.empty()) continue;
    remaining = true;
    std::string why = retry_us_[peer] > now ? "retrying after a failure" : Unready(peer);
    if (why.empty()) return Run(peer, std::move(ranges), /*for_job=*/true);
    waiting += (waiting.empty() ? "waiting for " : "; ") + peer + ": " + why;
  }
  if (!remaining) return FinishJob();
  job_detail_ = waiting;
}

void AntiEntropy::TickAutomatic(uint64_t now) {
  if (options_.interval_us == 0) return;
  auto ring = view_->Current();
  const std::vector<std::string> peers = CoReplicas(*ring, options_.self);
  for (size_t i = 0; i < peers.size(); i++) {
    const std::string& peer = peers[i];
    auto [it, fresh] = due_us_.try_emplace(peer, 0);
    if (fresh) it->second = now + options_.interval_us * (i + 1) / (peers.size() + 1);
    if (now < it->second) continue;
    if (!Unready(peer).empty()) {
      stats_.skipped++;
      it->second = now + options_.retry_us;
      continue;
    }
    return Run(peer, SharedRanges(*ring, options_.self, peer), /*for_job=*/false);
  }
}

void AntiEntropy::Run(const std::string& peer, std::vector<SharedRange> ranges, bool for_job) {
  auto ring = view_->Current();
  const ring::NodeInfo* node = ring->FindNode(peer);
  if (node == nullptr) return;
  if (for_job) job_detail_ = "comparing with " + peer;
  exchange_ = std::make_unique<AaeExchange>(options_.exchange, *node, ranges, leaves_, store_, transport_, executor_,
                                            io_, &throttle_, clock_);
  job_seen_ = ExchangeStats();
  const uint64_t started = clock_->NowMicros();
  auto shared = std::make_shared<std::vector<SharedRange>>(std::move(ranges));
  // What a clean range proves for the purge rule holds from this sequence on.
  const bool feeds_horizon = horizon_ != nullptr && !(hints_advertised_ && hints_advertised_());
  const uint64_t start_sequence = feeds_horizon ? sequence_() : 0;
  exchange_->Start(
      [this, peer, shared, for_job, feeds_horizon, start_sequence](size_t i, bool differed) {
        if (feeds_horizon && !differed) horizon_->RecordClean(peer, (*shared)[i].range.end, start_sequence);
        if (for_job) OnRangeDone(peer, (*shared)[i], differed);
      },
      [this, peer, for_job, started](const Status& s) { OnExchangeDone(peer, for_job, started, s); });
}

void AntiEntropy::AddToJob(const ExchangeStats& before, const ExchangeStats& now) {
  RepairProgress& p = job_.progress;
  p.ranges_differing += now.ranges_differing - before.ranges_differing;
  p.leaves_differing += now.leaves_differing - before.leaves_differing;
  p.keys_sent += now.keys_sent - before.keys_sent;
  p.keys_received += now.keys_received - before.keys_received;
  p.bytes_sent += now.bytes_sent - before.bytes_sent;
  p.bytes_received += now.bytes_received - before.bytes_received;
  job_seen_ = now;
}

void AntiEntropy::OnRangeDone(const std::string& peer, const SharedRange& range, bool) {
  job_.done.emplace(peer, range.range.end);
  job_.progress.ranges_done = job_.done.size();
  AddToJob(job_seen_, exchange_->stats());
  Persist(false);
}

void AntiEntropy::OnExchangeDone(const std::string& peer, bool for_job, uint64_t started_us, const Status& status) {
  const ExchangeStats st = exchange_->stats();
  const uint64_t now = clock_->NowMicros(), wall = clock_->WallMicros();
  if (for_job) AddToJob(job_seen_, st);
  stats_.total.Add(st);
  // The exchange is still on the stack (this is its done callback): free it later.
  executor_->Post([done = std::shared_ptr<AaeExchange>(std::move(exchange_))] {});
  if (!status.ok()) {
    stats_.exchange_failures++;
    LOG_INFO(logger_, "anti-entropy with %s stopped: %s (tried again in %llu s)", peer.c_str(),
             status.ToString().c_str(), static_cast<unsigned long long>(options_.retry_us / 1'000'000));
    (for_job ? retry_us_[peer] : due_us_[peer]) = now + options_.retry_us;
    if (for_job) job_detail_ = peer + ": " + status.ToString();
    return;
  }
  stats_.exchanges++;
  last_[peer] = {wall, now - started_us, st};
  if (st.keys_sent + st.keys_received > 0) {
    stats_.last_converge_us = now - started_us;
    LOG_INFO(logger_, "anti-entropy with %s: %llu ranges and %llu leaves differed, %llu keys sent, %llu received",
             peer.c_str(), static_cast<unsigned long long>(st.ranges_differing),
             static_cast<unsigned long long>(st.leaves_differing), static_cast<unsigned long long>(st.keys_sent),
             static_cast<unsigned long long>(st.keys_received));
  }
  if (for_job) return Persist(true);
  due_us_[peer] = now + options_.interval_us;
  cycle_.Add(st);
  NoteFullCycle(wall);
}

void AntiEntropy::NoteFullCycle(uint64_t now_wall) {
  auto ring = view_->Current();
  for (const std::string& peer : CoReplicas(*ring, options_.self)) {
    auto it = last_.find(peer);
    if (it == last_.end() || it->second.finished_wall_us < cycle_start_wall_us_) return;
  }
  RepairProgress& p = job_.progress;
  p.last_full_wall_us = now_wall;
  p.last_full_ranges_differing = cycle_.ranges_differing;
  p.last_full_keys_repaired = cycle_.keys_sent + cycle_.keys_received;
  cycle_ = ExchangeStats();
  cycle_start_wall_us_ = now_wall;
  Persist(true);
}

void AntiEntropy::FinishJob() {
  RepairProgress& p = job_.progress;
  p.elapsed_us += clock_->NowMicros() - job_run_started_us_;
  job_run_started_us_ = 0;
  p.state = RepairState::kDone;
  job_detail_.clear();
  if (!job_.request.range && job_.request.peer.empty()) {
    p.last_full_wall_us = clock_->WallMicros();
    p.last_full_ranges_differing = p.ranges_differing;
    p.last_full_keys_repaired = p.keys_sent + p.keys_received;
  }
  LOG_INFO(logger_, "repair job %llu done in %.1f s: %llu ranges compared, %llu differed (%llu leaves); %llu keys sent, "
           "%llu received; %llu bytes sent, %llu received",
           static_cast<unsigned long long>(p.job), static_cast<double>(p.elapsed_us) / 1e6,
           static_cast<unsigned long long>(p.ranges_done), static_cast<unsigned long long>(p.ranges_differing),
           static_cast<unsigned long long>(p.leaves_differing), static_cast<unsigned long long>(p.keys_sent),
           static_cast<unsigned long long>(p.keys_received), static_cast<unsigned long long>(p.bytes_sent),
           static_cast<unsigned long long>(p.bytes_received));
  Persist(true);
}

base::Result<RepairProgress> AntiEntropy::StartRepair(const RepairRequest& request) {
  if (job_.progress.state == RepairState::kRunning) {
    return Status::Busy("repair job " + std::to_string(job_.progress.job) + " is running (" +
                        std::to_string(job_.done.size()) + " of " + std::to_string(job_.progress.ranges_total) +
                        " ranges done)");
  }
  auto ring = view_->Current();
  if (!request.peer.empty() && ring->FindNode(request.peer) == nullptr) {
    return Status::InvalidArgument("repair: '" + request.peer + "' is not a member");
  }
  RepairJobState job;
  job.progress.job = job_.progress.job + 1;
  job.progress.state = RepairState::kRunning;
  job.progress.started_wall_us = clock_->WallMicros();
  job.progress.last_full_wall_us = job_.progress.last_full_wall_us;
  job.progress.last_full_ranges_differing = job_.progress.last_full_ranges_differing;
  job.progress.last_full_keys_repaired = job_.progress.last_full_keys_repaired;
  job.request = request;
  job_ = std::move(job);
  for (const std::string& peer : JobPeers(*ring)) job_.progress.ranges_total += JobRanges(*ring, peer).size();
  job_run_started_us_ = clock_->NowMicros();
  retry_us_.clear();
  job_detail_ = "starting";
  LOG_INFO(logger_, "repair job %llu started: %llu ranges", static_cast<unsigned long long>(job_.progress.job),
           static_cast<unsigned long long>(job_.progress.ranges_total));
  Persist(true);
  return Progress();
}

RepairProgress AntiEntropy::Progress() const {
  RepairProgress p = job_.progress;
  p.detail = job_detail_;
  if (p.state == RepairState::kRunning) p.elapsed_us += clock_->NowMicros() - job_run_started_us_;
  return p;
}

void AntiEntropy::Persist(bool now) {
  if (saver_ == nullptr) return;
  const uint64_t t = clock_->NowMicros();
  if (!now && t - persisted_us_ < options_.persist_every_us) return;
  persisted_us_ = t;
  RepairJobState snapshot = job_;
  snapshot.progress = Progress();
  snapshot.progress.detail.clear();
  saver_->Save(EncodeRepairJobState(snapshot));
}

}  // namespace kvring::repl
