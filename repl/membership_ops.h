// repl/membership_ops.h — the membership operations a node drives: join,
// decommission, removenode, replace and set-weight (this node's weight: its
// virtual nodes move like a join or leave of some), and rebuild (a member that lost its
// data streams back every range it replicates from the other replicas; no status
// changes, it keeps serving meanwhile). Each of the first four is
//
//   announce   gossip the new status: this node joining (join, replace) or
//              leaving (decommission), or the gone member removing (removenode,
//              replace; this node speaks for it). Every node then derives the same
//              ring in transition (repl/gossip.h, ring/transition.h) and sends
//              its writes of the moving ranges to the old and the new owners;
//   wait       until every member that may coordinate (held up, neither left nor
//              removed) is known to hold the new status (Gossiper::NotYetHeard: its
//              digests or replies say so), and at least ring_delay, so that no
//              coordinator still writes the moving ranges to the old owners alone
//              once the first batch is read (such a write, acknowledged, would miss
//              a range already streamed). The status is spread to every member at
//              the announce and again every second while some have not heard;
//              the progress detail names the members waited for;
//   stream     every move of the transition this operation must make
//              (repl/range_stream.h): join and replace the moves to this node;
//              decommission and removenode every move;
//   finish     gossip the end: this node normal (join, replace), left
//              (decommission), the gone member removed (removenode, replace). The
//              ring in force becomes the ring after; old owners clean up later
//              (node/: cleanup after a safety wait).
//
// The operation and every stream's progress are kept in DATA/membership_op
// (docs/formats/membership_op.md), saved at most every save_interval while
// streaming and at every change of state, so a node restarted mid-operation
// resumes it: the same status again, each range from its last saved key.
// One operation at a time: Start refuses (Busy, naming it) while this node runs
// one or the cluster is in transition.
// Thread safety: executor thread only (kvnode: loop 0).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/logging.h"
#include "base/status.h"
#include "repl/failure_detector.h"
#include "repl/file_saver.h"
#include "repl/gossip.h"
#include "repl/range_stream.h"
#include "repl/stream_messages.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct MembershipOpsOptions {
  std::string self;
  uint64_t ring_delay_us = 3'000'000;
  uint64_t save_interval_us = 500'000;
  std::string state_path;  // DATA/membership_op ("" = not persisted)
};

// What DATA/membership_op holds.
struct PersistedOperation {
  OperationKind kind = OperationKind::kNone;
  std::string target;
  OperationState state = OperationState::kNone;
  uint64_t started_wall_us = 0;
  std::vector<StreamTask> tasks;  // empty until the streaming began
  friend bool operator==(const PersistedOperation&, const PersistedOperation&) = default;
};

constexpr char kMembershipOpFileName[] = "membership_op";
constexpr uint8_t kMembershipOpFileVersion = 1;
void EncodeMembershipOpFile(const PersistedOperation& op, std::string* dst);
[[nodiscard]] base::Result<PersistedOperation> DecodeMembershipOpFile(std::string_view bytes);
// The operation in `path`, or none (kind kNone) when the file does not exist.
[[nodiscard]] base::Result<PersistedOperation> LoadMembershipOp(base::Env* env, const std::string& path);

// A set-weight target: a weight in (0, ring::kMaxWeight].
bool ParseWeight(const std::string& text, double* weight);
// True while `op` runs (announcing or streaming).
bool Running(const PersistedOperation& op);
// The status this node gossips from its start: joining while a join or a replace
// of its own runs, leaving while its decommission runs, left once it is done,
// normal otherwise.
MemberStatus StartupStatus(const PersistedOperation& op);

class MembershipOperator {
 public:
  // Every pointer must outlive the operator; *env, *io and *logger also every
  // save it queued on io (the file is written there, off the event loop).
  MembershipOperator(MembershipOpsOptions options, Gossiper* gossip, ring::MembershipView* view,
                     const FailureDetector* liveness, RangeStreamer* streamer, base::Env* env, Executor* io,
                     base::Clock* clock, base::Logger* logger);
  MembershipOperator(const MembershipOperator&) = delete;
  MembershipOperator& operator=(const MembershipOperator&) = delete;

  // Continues `op` (LoadMembershipOp's) when it was running; otherwise keeps it
  // for Progress (a finished operation stays visible).
  void Resume(PersistedOperation op);
  // Starts an operation. Busy (naming what runs) while an operation runs here or
  // the cluster is in transition; InvalidArgument when it does not apply (a join
  // of a node that is a member already, a removenode of this node, of an unknown
  // member or of one that is not down).
  [[nodiscard]] base::Status Start(OperationKind kind, std::string target);
  // Advances the running operation (kvnode: every 100 ms).
  void Tick();

  MembershipProgress Progress() const;
  // This node decommissioned itself: it serves no more requests.
  bool left() const { return op_.kind == OperationKind::kDecommission && op_.state == OperationState::kDone; }

 private:
  base::Status CheckCanStart(OperationKind kind, const std::string& target) const;
  void Announce();
  // Records id's gossiped state as one the announce changed (waited for in NotYetHeard).
  void Announced(const std::string& id);
  void Spread(uint64_t now);
  // The members not yet known to hold every status this operation announced.
  std::vector<std::string> NotYetHeard() const;
  void TickAnnouncing(uint64_t now);
  void TickStreaming(uint64_t now);
  // The moves this operation makes, or why it cannot yet ("" and no tasks: nothing moves).
  bool PlanTasks(std::vector<StreamTask>* tasks, std::string* waiting) const;
  void PlanRebuild(std::vector<StreamTask>* tasks) const;
  void Finish();
  double CurrentWeight() const;  // this node's in the ring in force
  void FailWith(const std::string& why);
  void Save();

  const MembershipOpsOptions options_;
  Gossiper* const gossip_;
  ring::MembershipView* const view_;
  const FailureDetector* const liveness_;
  RangeStreamer* const streamer_;
  std::unique_ptr<FileSaver> saver_;  // null without a state_path
  base::Clock* const clock_;
  base::Logger* const logger_;
  PersistedOperation op_;
  std::string detail_;
  uint64_t announced_us_ = 0;  // monotonic, this run
  uint64_t spread_us_ = 0;     // the last Spread (monotonic)
  std::vector<GossipDigest> announced_;  // the states the announce gave: of this node, of the target or both
  uint64_t saved_us_ = 0;
  bool dirty_ = false;
};

}  // namespace kvring::repl
