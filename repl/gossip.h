// repl/gossip.h — gossip membership: every node keeps a table of member states
// (repl/member_state.h), raises its own heartbeat every interval, and exchanges
// digests with a few peers so that what any node knows reaches every node in a few
// rounds. A new node needs one seed address. The ring in force is built from the
// members whose status owns ranges (normal, leaving, removing), the ring after the
// running change from those that will (joining, normal; a member changing its
// weight with its next weight): when they differ the view
// holds the ring in transition between them (ring/transition.h), with the removing
// member as the one that may not be a stream source. So ring changes travel by
// gossip and every node converges on the same rings.
//
// One exchange, started by A with B (three messages; Cassandra's SYN/ACK/ACK2):
//   A -> B  GOSSIP_SYN   cluster:lp from:lp count:varint32 digest{count}
//                        digest := id:lp generation:varint64 version:varint64
//   B -> A  (reply)      count:varint32 member_state{count} wants:varint32 id:lp{wants}
//           the states B has newer than A's digests (and those A lists none of), and
//           the members of which A's digest is newer than what B holds
//   A -> B  GOSSIP_PUSH  cluster:lp from:lp count:varint32 member_state{count}
//           what B wanted (only when it wanted something)
// Only newer states ever travel: a state replaces another of the same member iff
// its (generation, version) is larger.
//
// Whom A picks each round: one random member it does not hold down; with
// probability down / (up + 1) one member it holds down (so a healed partition
// is noticed); and a random seed when the member picked was not one or fewer
// members are up than there are seeds (so a split cluster rejoins through them).
// A message naming another cluster is refused with a logged reason on both sides.
// What a node learned is kept in DATA/members (docs/formats/members.md), so a
// restarted node places keys the same way even while its seeds are down.
// Thread safety: executor thread only, except Snapshot and members (any thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/env.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/random.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "repl/failure_detector.h"
#include "repl/member_state.h"
#include "repl/transport.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct GossipOptions {
  std::string cluster;             // every gossip message names it
  ring::NodeInfo self;
  uint64_t generation = 1;         // this run's (DATA/node_state)
  MemberStatus status = MemberStatus::kNormal;  // this node's at start (an operation it resumes)
  double next_weight = 0;                       // > 0: a weight change it resumes
  std::vector<std::string> seeds;  // HOST:PORT addresses
  uint64_t timeout_ms = 1000;      // deadline of one message
  std::string members_path;        // DATA/members ("" = not persisted)
  uint64_t seed = 1;               // peer choice
};

// One member as this node sees it (for CLUSTER_STATUS).
struct MemberView {
  MemberState state;
  uint64_t heartbeat_age_us = 0;  // since its version last rose here (0 for this node)
  bool self = false;
};

// One member's (generation, version): what a GOSSIP_SYN lists per member.
struct GossipDigest {
  std::string id;
  uint64_t generation = 0;
  uint64_t version = 0;
  friend bool operator==(const GossipDigest&, const GossipDigest&) = default;
};

struct GossipStats {
  uint64_t rounds = 0, syns_sent = 0, syns_received = 0, states_received = 0, states_sent = 0,
           refused_cluster = 0;
};

class Gossiper {
 public:
  // Every pointer must outlive the gossiper.
  Gossiper(GossipOptions options, ring::MembershipView* view, FailureDetector* detector, Transport* transport,
           base::Env* env, base::Clock* clock, base::Logger* logger);
  Gossiper(const Gossiper&) = delete;
  Gossiper& operator=(const Gossiper&) = delete;

  // Loads DATA/members and publishes the first ring (this node plus what it knew).
  [[nodiscard]] base::Status Load();
  // One round: raises this node's heartbeat and starts the exchanges.
  void Tick();
  // This node's own load, suspicions and hints, gossiped from the next heartbeat.
  void UpdateSelf(uint64_t load_bytes, uint64_t load_keys, std::vector<std::string> suspects,
                  std::vector<std::pair<std::string, uint64_t>> hints);
  // This node's status (a membership change it runs), gossiped from now on; the
  // rings are republished at once.
  void SetSelfStatus(MemberStatus status);
  // This node's weight, and the weight after a running weight change (0: none);
  // gossiped from now on, the rings republished at once.
  void SetSelfWeights(double weight, double next_weight);
  // Speaks for a member that is gone for good (removenode, replace): gives its state
  // `status` with a raised version, so gossip carries it as the member's newest.
  // NotFound for an unknown member, InvalidArgument for this node.
  [[nodiscard]] base::Status SetStatusOf(std::string_view id, MemberStatus status);
  // The status gossip holds for `id` (NotFound when unknown). Any thread.
  [[nodiscard]] base::Result<MemberStatus> StatusOf(std::string_view id) const;
  // `id`'s (generation, version) as held here (NotFound when unknown).
  [[nodiscard]] base::Result<GossipDigest> DigestOf(std::string_view id) const;
  // The members that may coordinate requests (held up, neither left nor removed;
  // this node and the subject aside) not yet known to hold digest.id's state at
  // (digest.generation, digest.version) or newer, sorted. What a member holds is
  // learned from the digests of its GOSSIP_SYNs, from its replies to this node's
  // (a member it did not want it holds as listed) and from its answers to this
  // node's pushes. A membership operation waits for this to be empty before it
  // streams (repl/membership_ops.h).
  std::vector<std::string> NotYetHeard(const GossipDigest& digest) const;
  // One exchange with every member held up, now: a status change reaches each in
  // one round trip rather than in a few random rounds.
  void Spread();

  // A GOSSIP_SYN: the reply payload, or InvalidArgument naming the clusters.
  base::Result<std::string> OnSyn(std::string_view body);
  // A GOSSIP_PUSH.
  base::Status OnPush(std::string_view body);

  // Every member, this node first. Any thread.
  std::vector<MemberView> Snapshot() const;
  std::vector<ring::NodeInfo> members() const;
  GossipStats stats() const;

 private:
  struct Entry {
    MemberState state;
    uint64_t updated_us = 0;  // local monotonic time its version last rose
  };

  std::vector<GossipDigest> Digests() const;
  void ExchangeWith(const ring::NodeInfo& peer);
  void OnAck(const ring::NodeInfo& peer, const std::vector<GossipDigest>& sent, std::string_view payload);
  // Records that `peer` holds `member`'s state at (generation, version) or newer.
  void NoteHeldLocked(std::string_view peer, std::string_view member, uint64_t generation, uint64_t version)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What `peer` is known to hold of `member`: (generation, version), (0, 0) when nothing.
  std::pair<uint64_t, uint64_t> HeldLocked(std::string_view peer, std::string_view member) const
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The id of the member at `peer` (by id, else by address; "" when unknown).
  std::string PeerIdLocked(const ring::NodeInfo& peer) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes every state newer than the one held; publishes and persists when the
  // ring's members changed. Returns how many states were taken.
  size_t Apply(const std::vector<MemberState>& states);
  bool TakeLocked(const MemberState& s, uint64_t now, bool* ring_changed) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishRing();
  // The other members, split by whether the failure detector holds them down.
  void PeersByLiveness(std::vector<ring::NodeInfo>* up, std::vector<ring::NodeInfo>* down) const;
  std::vector<ring::NodeInfo> PickPeers();

  const GossipOptions options_;
  ring::MembershipView* const view_;
  FailureDetector* const detector_;
  Transport* const transport_;
  base::Env* const env_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  base::Random rnd_;
  mutable base::Mutex mu_;
  std::map<std::string, Entry, std::less<>> table_ GUARDED_BY(mu_);  // by id, this node included
  GossipStats stats_ GUARDED_BY(mu_);
  // peer id -> member id -> (generation, version) that peer is known to hold.
  std::map<std::string, std::map<std::string, std::pair<uint64_t, uint64_t>, std::less<>>, std::less<>> held_
      GUARDED_BY(mu_);
};

// The gossip messages (also used by tests and docs/protocol.md's examples).
void EncodeGossipSyn(std::string* dst, std::string_view cluster, std::string_view from,
                     const std::vector<GossipDigest>& digests);
bool DecodeGossipSyn(std::string_view body, std::string* cluster, std::string* from,
                     std::vector<GossipDigest>* digests);
void EncodeGossipAck(std::string* dst, const std::vector<MemberState>& states, const std::vector<std::string>& wants);
bool DecodeGossipAck(std::string_view payload, std::vector<MemberState>* states, std::vector<std::string>* wants);
void EncodeGossipPush(std::string* dst, std::string_view cluster, std::string_view from,
                      const std::vector<MemberState>& states);
bool DecodeGossipPush(std::string_view body, std::string* cluster, std::string* from,
                      std::vector<MemberState>* states);

}  // namespace kvring::repl
