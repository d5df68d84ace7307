// node/node_membership.cc — Node's wiring of the membership operations
// (repl/membership_ops.h): the streamer and the operator on loop 0, the
// operation a restart resumes from DATA/membership_op, and --join.
#include "node/node.h"

namespace kvring::node {

using base::Status;

namespace {

// How often the operator advances and the streamer starts batches.
constexpr uint64_t kMembershipTickMicros = 100'000;

}  // namespace

// A damaged file stops the start: whether this node had left the cluster or was
// streaming is unknown, and starting as a normal member could bring a node that
// had left back into the ring with ranges it no longer holds.
Status Node::LoadMembershipOperation() {
  const std::string path = base::JoinPath(options_.data_dir, repl::kMembershipOpFileName);
  base::Result<repl::PersistedOperation> op = repl::LoadMembershipOp(disk_->env(), path);
  if (!op.ok()) {
    return op.status().WithContext(
        "membership operation (to start anyway, move the file aside: the node then starts as a normal member; "
        "a node that had left the cluster should rather start on an empty data directory)");
  }
  membership_op_ = std::move(op).value();
  return Status::OK();
}

void Node::StartMembershipOps(repl::Transport* transport, repl::PersistedOperation op) {
  repl::StreamerOptions stream;
  stream.self = options_.id;
  stream.rate_bytes_per_sec = options_.stream_rate_bytes;
  stream.parallel = static_cast<size_t>(options_.stream_parallel);
  stream.timeout_ms = std::max<uint64_t>(10000, 2 * static_cast<uint64_t>(options_.request_timeout_ms));
  ring::MembershipView* view = view_.get();
  auto find = [view](std::string_view id) -> std::optional<ring::NodeInfo> {
    if (auto t = view->Transition(); t != nullptr) {
      if (const ring::NodeInfo* n = t->to().FindNode(id)) return *n;
      if (const ring::NodeInfo* n = t->from().FindNode(id)) return *n;
    }
    if (const ring::NodeInfo* n = view->Current()->FindNode(id)) return *n;
    return std::nullopt;
  };
  streamer_ = std::make_unique<repl::RangeStreamer>(stream, db_.get(), store_.get(), transport, liveness_.get(),
                                                    find, loops_.front().executor.get(), io_executor_.get(),
                                                    env_.clock, logger_);
  repl::MembershipOpsOptions ops;
  ops.self = options_.id;
  ops.ring_delay_us = static_cast<uint64_t>(options_.ring_delay_ms) * 1000;
  ops.state_path = base::JoinPath(options_.data_dir, repl::kMembershipOpFileName);
  membership_ = std::make_unique<repl::MembershipOperator>(ops, gossip_.get(), view_.get(), liveness_.get(),
                                                           streamer_.get(), disk_->env(), io_executor_.get(),
                                                           env_.clock, logger_);
  const bool fresh = op.kind == repl::OperationKind::kNone;
  membership_->Resume(std::move(op));
  if (fresh && options_.join) boot_op_ = repl::OperationKind::kJoin;
  if (fresh && !options_.replace.empty()) boot_op_ = repl::OperationKind::kReplace;
  if (boot_op_ != repl::OperationKind::kNone) StartBootOperation();
  repl::CleanupOptions cleanup;
  cleanup.self = options_.id;
  cleanup.delay_us = static_cast<uint64_t>(options_.cleanup_delay_ms) * 1000;
  cleaner_ = std::make_unique<repl::RangeCleaner>(cleanup, db_.get(), view_.get(), loops_.front().executor.get(),
                                                  io_executor_.get(), env_.clock, logger_);
  server_->loop(0)->RunEvery(kMembershipTickMicros, [this] { MembershipTick(); });
}

void Node::MembershipTick() {
  if (boot_op_ != repl::OperationKind::kNone) StartBootOperation();
  membership_->Tick();
  cleaner_->Tick();
  if (membership_->left()) service_->MarkLeft();
}

// --join and --replace start once they may: --replace when this node heard of
// the cluster and sees the member it replaces down (a fresh node knows neither at
// its start), either when no other change runs.
void Node::StartBootOperation() {
  Status s = membership_->Start(boot_op_, options_.replace);
  if (s.ok()) {
    boot_op_ = repl::OperationKind::kNone;
    return;
  }
  const uint64_t now = env_.clock->NowMicros();
  if (now - boot_op_logged_us_ < 5'000'000) return;
  boot_op_logged_us_ = now;
  LOG_WARN(logger_, "--%s waits: %s", repl::OperationKindName(boot_op_), s.ToString().c_str());
}

}  // namespace kvring::node
