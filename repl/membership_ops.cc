#include "repl/membership_ops.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "base/coding.h"
#include "base/sealed_file.h"
#include "base/strings.h"

namespace kvring::repl {

using base::Status;

namespace {

constexpr std::string_view kMagic = "KVOP";
constexpr uint64_t kRespreadUs = 1'000'000;  // while some members have not heard of an announce

bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!base::GetLengthPrefixed(in, &v)) return false;
  out->assign(v);
  return true;
}

void EncodeTask(std::string* dst, const StreamTask& t) {
  EncodeStreamProgress(dst, t.progress);
  base::PutLengthPrefixed(dst, t.after);
  base::PutVarint32(dst, static_cast<uint32_t>(t.sources.size()));
  for (const std::string& s : t.sources) base::PutLengthPrefixed(dst, s);
}

bool DecodeTask(std::string_view* in, StreamTask* t) {
  uint32_t n = 0;
  if (!DecodeStreamProgress(in, &t->progress) || !GetString(in, &t->after) || !base::GetVarint32(in, &n) ||
      n > in->size()) {
    return false;
  }
  t->sources.resize(n);
  for (std::string& s : t->sources) {
    if (!GetString(in, &s)) return false;
  }
  return true;
}

bool DecodeBody(std::string_view in, PersistedOperation* op) {
  uint32_t n = 0;
  if (in.size() < 1 || static_cast<uint8_t>(in[0]) > static_cast<uint8_t>(OperationKind::kSetWeight)) return false;
  op->kind = static_cast<OperationKind>(in[0]);
  in.remove_prefix(1);
  if (!GetString(&in, &op->target) || in.empty() ||
      static_cast<uint8_t>(in[0]) > static_cast<uint8_t>(OperationState::kFailed)) {
    return false;
  }
  op->state = static_cast<OperationState>(in[0]);
  in.remove_prefix(1);
  if (!base::GetVarint64(&in, &op->started_wall_us) || !base::GetVarint32(&in, &n) || n > in.size()) return false;
  op->tasks.resize(n);
  for (StreamTask& t : op->tasks) {
    if (!DecodeTask(&in, &t)) return false;
  }
  return in.empty();
}

}  // namespace

void EncodeMembershipOpFile(const PersistedOperation& op, std::string* dst) {
  std::string body;
  body.push_back(static_cast<char>(op.kind));
  base::PutLengthPrefixed(&body, op.target);
  body.push_back(static_cast<char>(op.state));
  base::PutVarint64(&body, op.started_wall_us);
  base::PutVarint32(&body, static_cast<uint32_t>(op.tasks.size()));
  for (const StreamTask& t : op.tasks) EncodeTask(&body, t);
  base::SealFile(kMagic, kMembershipOpFileVersion, body, dst);
}

base::Result<PersistedOperation> DecodeMembershipOpFile(std::string_view bytes) {
  uint8_t version = 0;
  std::string_view body;
  KV_RETURN_IF_ERROR(base::OpenSealedFile(bytes, kMagic, kMembershipOpFileVersion, "membership_op file", &version,
                                          &body));
  PersistedOperation op;
  if (!DecodeBody(body, &op)) return Status::Corruption("membership_op file: malformed operation or stream");
  return op;
}

base::Result<PersistedOperation> LoadMembershipOp(base::Env* env, const std::string& path) {
  if (path.empty() || !env->FileExists(path)) return PersistedOperation();
  std::string bytes;
  KV_RETURN_IF_ERROR(base::ReadFileToString(env, path, &bytes).WithContext("read " + path));
  auto op = DecodeMembershipOpFile(bytes);
  if (!op.ok()) return op.status().WithContext(path);
  return op;
}

bool ParseWeight(const std::string& text, double* weight) {
  char* end = nullptr;
  *weight = std::strtod(text.c_str(), &end);
  return !text.empty() && end != nullptr && *end == '\0' && std::isfinite(*weight) && *weight > 0 &&
         *weight <= ring::kMaxWeight;
}

bool Running(const PersistedOperation& op) {
  return op.state == OperationState::kAnnouncing || op.state == OperationState::kStreaming;
}

MemberStatus StartupStatus(const PersistedOperation& op) {
  const bool joins = op.kind == OperationKind::kJoin || op.kind == OperationKind::kReplace;
  if (joins && Running(op)) return MemberStatus::kJoining;
  if (op.kind == OperationKind::kDecommission && Running(op)) return MemberStatus::kLeaving;
  if (op.kind == OperationKind::kDecommission && op.state == OperationState::kDone) return MemberStatus::kLeft;
  return MemberStatus::kNormal;
}

MembershipOperator::MembershipOperator(MembershipOpsOptions options, Gossiper* gossip, ring::MembershipView* view,
                                       const FailureDetector* liveness, RangeStreamer* streamer, base::Env* env,
                                       Executor* io, base::Clock* clock, base::Logger* logger)
    : options_(std::move(options)),
      gossip_(gossip),
      view_(view),
      liveness_(liveness),
      streamer_(streamer),
      saver_(options_.state_path.empty()
                 ? nullptr
                 : std::make_unique<FileSaver>(options_.state_path, "membership operation", env, io, logger)),
      clock_(clock),
      logger_(logger) {
  streamer_->OnProgress([this] { dirty_ = true; });
}

void MembershipOperator::Resume(PersistedOperation op) {
  op_ = std::move(op);
  if (!Running(op_)) return;
  LOG_INFO(logger_, "resuming the %s%s%s left %s", OperationKindName(op_.kind), op_.target.empty() ? "" : " of ",
           op_.target.c_str(), OperationStateName(op_.state));
  // Announce again and wait again: peers may have restarted meanwhile too.
  op_.state = OperationState::kAnnouncing;
  Announce();
}

Status MembershipOperator::CheckCanStart(OperationKind kind, const std::string& target) const {
  if (Running(op_)) {
    return Status::Busy(std::string("a ") + OperationKindName(op_.kind) + (op_.target.empty() ? "" : " of ") +
                        op_.target + " runs on this node (" + OperationStateName(op_.state) + ")");
  }
  if (left()) return Status::InvalidArgument("this node has left the cluster (decommissioned)");
  // A join started at boot finds the transition its own joining status made.
  const auto t = view_->Transition();
  const bool own_join = kind == OperationKind::kJoin && t != nullptr && t->to().FindNode(options_.self) != nullptr &&
                        t->from().FindNode(options_.self) == nullptr &&
                        t->to().node_count() == t->from().node_count() + 1;
  if (t != nullptr && !own_join) {
    return Status::Busy("the cluster is in transition (from " + std::to_string(t->from().node_count()) +
                        " to " + std::to_string(t->to().node_count()) +
                        " members): one membership change at a time; retry when it is done");
  }
  const bool member = view_->Current()->FindNode(options_.self) != nullptr;
  if (kind == OperationKind::kJoin && member) {
    return Status::InvalidArgument(options_.self + " is a member of the ring already: nothing to join");
  }
  if (kind == OperationKind::kSetWeight) {
    double w = 0;
    if (!ParseWeight(target, &w)) {
      return Status::InvalidArgument("set-weight: '" + target + "' is not a weight in (0, " +
                                     std::to_string(static_cast<int>(ring::kMaxWeight)) + "]");
    }
    const ring::NodeInfo* self = view_->Current()->FindNode(options_.self);
    if (self != nullptr && self->weight == w) return Status::InvalidArgument("set-weight: the weight is " + target + " already");
  }
  if ((kind == OperationKind::kDecommission || kind == OperationKind::kRebuild || kind == OperationKind::kSetWeight) &&
      !member) {
    return Status::InvalidArgument(options_.self + " owns no range: nothing to " + OperationKindName(kind));
  }
  if (kind == OperationKind::kRemoveNode || kind == OperationKind::kReplace) {
    if (target == options_.self) return Status::InvalidArgument("a node cannot remove itself: use decommission");
    const ring::NodeInfo* node = view_->Current()->FindNode(target);
    if (node == nullptr) return Status::InvalidArgument(target + " is not a member of the ring");
    if (!liveness_->IsDown(*node)) {
      return Status::InvalidArgument(target + " is not down: removenode and replace are for members gone for good "
                                     "(decommission a live one)");
    }
  }
  return Status::OK();
}

Status MembershipOperator::Start(OperationKind kind, std::string target) {
  if (kind == OperationKind::kJoin && Running(op_) && op_.kind == kind) return Status::OK();  // --wait on a join
  KV_RETURN_IF_ERROR(CheckCanStart(kind, target));
  op_ = PersistedOperation{kind, std::move(target), OperationState::kAnnouncing, clock_->WallMicros(), {}};
  LOG_INFO(logger_, "starting the %s%s%s", OperationKindName(op_.kind), op_.target.empty() ? "" : " of ",
           op_.target.c_str());
  Announce();
  return Status::OK();
}

void MembershipOperator::Announce() {
  announced_us_ = clock_->NowMicros();
  detail_ = "announcing; streaming starts after the ring delay";
  announced_.clear();
  switch (op_.kind) {
    case OperationKind::kJoin:
      gossip_->SetSelfStatus(MemberStatus::kJoining);
      Announced(options_.self);
      break;
    case OperationKind::kDecommission:
      gossip_->SetSelfStatus(MemberStatus::kLeaving);
      Announced(options_.self);
      break;
    case OperationKind::kReplace:
      gossip_->SetSelfStatus(MemberStatus::kJoining);
      Announced(options_.self);
      [[fallthrough]];
    case OperationKind::kRemoveNode: {
      Status s = gossip_->SetStatusOf(op_.target, MemberStatus::kRemoving);
      if (!s.ok()) return FailWith(s.ToString());
      Announced(op_.target);
      break;
    }
    case OperationKind::kSetWeight: {
      double w = 0;
      ParseWeight(op_.target, &w);  // checked by Start
      gossip_->SetSelfWeights(CurrentWeight(), w);
      Announced(options_.self);
      break;
    }
    case OperationKind::kRebuild:
    case OperationKind::kNone:
      break;
  }
  Spread(announced_us_);
  Save();
}

void MembershipOperator::Announced(const std::string& id) {
  auto digest = gossip_->DigestOf(id);
  if (digest.ok()) announced_.push_back(*digest);
}

void MembershipOperator::Spread(uint64_t now) {
  if (announced_.empty()) return;
  gossip_->Spread();
  spread_us_ = now;
}

std::vector<std::string> MembershipOperator::NotYetHeard() const {
  std::set<std::string> ids;
  for (const GossipDigest& d : announced_) {
    for (std::string& id : gossip_->NotYetHeard(d)) ids.insert(std::move(id));
  }
  return {ids.begin(), ids.end()};
}

double MembershipOperator::CurrentWeight() const {
  const ring::NodeInfo* self = view_->Current()->FindNode(options_.self);
  return self != nullptr ? self->weight : 1.0;
}

void MembershipOperator::Tick() {
  const uint64_t now = clock_->NowMicros();
  if (op_.state == OperationState::kAnnouncing) TickAnnouncing(now);
  if (op_.state == OperationState::kStreaming) TickStreaming(now);
}

// A rebuild: every range this node replicates, from its other replicas.
void MembershipOperator::PlanRebuild(std::vector<StreamTask>* tasks) const {
  view_->Current()->ForEachRange([&](const ring::TokenRange& range, const ring::PreferenceList& replicas) {
    if (!replicas.ContainsId(options_.self)) return;
    StreamTask task;
    task.progress.range = range;
    task.progress.destination = options_.self;
    for (const ring::NodeInfo* n : replicas) {
      if (n->id != options_.self) task.sources.push_back(n->id);
    }
    tasks->push_back(std::move(task));
  });
}

bool MembershipOperator::PlanTasks(std::vector<StreamTask>* tasks, std::string* waiting) const {
  if (op_.kind == OperationKind::kRebuild) {
    PlanRebuild(tasks);
    return true;
  }
  const std::shared_ptr<const ring::RingTransition> t = view_->Transition();
  const bool joins = op_.kind == OperationKind::kJoin || op_.kind == OperationKind::kReplace;
  // A joiner that has not heard of any member yet cannot know what to stream.
  if (joins && view_->Current()->node_count() == 0) {
    *waiting = "waiting to hear of the cluster's members from the seeds";
    return false;
  }
  if (t == nullptr) return true;  // nothing moves
  for (const ring::RangeMove& move : t->moves()) {
    if (joins && move.destination != options_.self) continue;
    StreamTask task;
    task.progress.range = move.range;
    task.progress.destination = move.destination;
    task.sources = move.sources;
    tasks->push_back(std::move(task));
  }
  return true;
}

void MembershipOperator::TickAnnouncing(uint64_t now) {
  // A rebuild changes no status: nobody has to hear of it first.
  if (op_.kind != OperationKind::kRebuild && now - announced_us_ < options_.ring_delay_us) return;
  const std::vector<std::string> unheard = NotYetHeard();
  if (!unheard.empty()) {
    detail_ = "announced; waiting for " + base::Join(unheard) + " to hear of the change before streaming";
    if (now - spread_us_ >= kRespreadUs) Spread(now);
    return;
  }
  std::vector<StreamTask> planned;
  std::string waiting;
  if (!PlanTasks(&planned, &waiting)) {
    detail_ = waiting;
    return;
  }
  for (const StreamTask& t : planned) {
    if (t.sources.empty()) {
      LOG_ERROR(logger_, "%s: no live copy of %s is left to stream to %s (its data is lost)",
                OperationKindName(op_.kind), t.progress.range.ToString().c_str(), t.progress.destination.c_str());
    }
  }
  if (op_.tasks.empty()) op_.tasks = std::move(planned);  // a resumed operation keeps its own
  op_.state = OperationState::kStreaming;
  detail_.clear();
  streamer_->Reset(op_.tasks);
  LOG_INFO(logger_, "%s: streaming %zu ranges", OperationKindName(op_.kind), op_.tasks.size());
  Save();
}

void MembershipOperator::TickStreaming(uint64_t now) {
  if (op_.kind == OperationKind::kRemoveNode || op_.kind == OperationKind::kReplace) {
    const ring::Ring& ring = *view_->Current();
    const ring::NodeInfo* node = ring.FindNode(op_.target);
    if (node != nullptr && !liveness_->IsDown(*node)) {
      return FailWith(op_.target + " is up again: a member being removed must stay gone");
    }
  }
  streamer_->Pump();
  op_.tasks = streamer_->tasks();
  detail_ = streamer_->last_error();
  if (streamer_->done()) return Finish();
  if (dirty_ && now - saved_us_ >= options_.save_interval_us) Save();
}

void MembershipOperator::Finish() {
  switch (op_.kind) {
    case OperationKind::kJoin:
      gossip_->SetSelfStatus(MemberStatus::kNormal);
      break;
    case OperationKind::kDecommission:
      gossip_->SetSelfStatus(MemberStatus::kLeft);
      break;
    case OperationKind::kReplace:
      gossip_->SetSelfStatus(MemberStatus::kNormal);
      [[fallthrough]];
    case OperationKind::kRemoveNode:
      gossip_->SetStatusOf(op_.target, MemberStatus::kRemoved).IgnoreError();  // known: it was announced
      break;
    case OperationKind::kSetWeight: {
      double w = 0;
      ParseWeight(op_.target, &w);
      gossip_->SetSelfWeights(w, 0);
      break;
    }
    case OperationKind::kRebuild:
    case OperationKind::kNone:
      break;
  }
  op_.state = OperationState::kDone;
  detail_.clear();
  LOG_INFO(logger_, "%s done: %zu ranges streamed%s", OperationKindName(op_.kind), op_.tasks.size(),
           op_.kind == OperationKind::kDecommission ? "; this node has left the cluster and serves no more requests"
                                                    : "");
  Save();
}

void MembershipOperator::FailWith(const std::string& why) {
  LOG_ERROR(logger_, "%s failed: %s", OperationKindName(op_.kind), why.c_str());
  op_.state = OperationState::kFailed;
  detail_ = why;
  Save();
}

void MembershipOperator::Save() {
  saved_us_ = clock_->NowMicros();
  dirty_ = false;
  if (saver_ == nullptr) return;
  std::string bytes;
  EncodeMembershipOpFile(op_, &bytes);
  saver_->Save(std::move(bytes));
}

MembershipProgress MembershipOperator::Progress() const {
  MembershipProgress p;
  p.kind = op_.kind;
  p.target = op_.target;
  p.state = op_.state;
  p.detail = detail_;
  p.started_wall_us = op_.started_wall_us;
  const uint64_t now = clock_->WallMicros();
  p.elapsed_us = op_.started_wall_us == 0 ? 0 : now - std::min(now, op_.started_wall_us);
  for (const StreamTask& t : op_.tasks) p.streams.push_back(t.progress);
  return p;
}

}  // namespace kvring::repl
