#include "repl/gossip.h"

#include <algorithm>
#include <set>

#include "base/coding.h"
#include "repl/messages.h"

namespace kvring::repl {

using base::Status;

namespace {

bool GetString(std::string_view* in, std::string* out) {
  std::string_view v;
  if (!base::GetLengthPrefixed(in, &v)) return false;
  out->assign(v);
  return true;
}

void PutStates(std::string* dst, const std::vector<MemberState>& states) {
  base::PutVarint32(dst, static_cast<uint32_t>(states.size()));
  for (const auto& s : states) EncodeMemberState(dst, s);
}

bool GetStates(std::string_view* in, std::vector<MemberState>* states) {
  uint32_t n;
  if (!base::GetVarint32(in, &n) || n > in->size()) return false;
  states->resize(n);
  for (auto& s : *states) {
    if (!DecodeMemberState(in, &s)) return false;
  }
  return true;
}

// The ring-relevant part of a state: who it is, where, and its status (which
// decides the rings before and after a change).
bool SameForTheRing(const MemberState& a, const MemberState& b) {
  return a.node == b.node && a.status == b.status && a.next_weight == b.next_weight;
}

// The member as the ring after the running change places it.
ring::NodeInfo After(const MemberState& s) {
  ring::NodeInfo node = s.node;
  if (s.next_weight > 0) node.weight = s.next_weight;
  return node;
}

bool Gone(MemberStatus status) { return status == MemberStatus::kLeft || status == MemberStatus::kRemoved; }

}  // namespace

void EncodeGossipSyn(std::string* dst, std::string_view cluster, std::string_view from,
                     const std::vector<GossipDigest>& digests) {
  base::PutLengthPrefixed(dst, cluster);
  base::PutLengthPrefixed(dst, from);
  base::PutVarint32(dst, static_cast<uint32_t>(digests.size()));
  for (const auto& d : digests) {
    base::PutLengthPrefixed(dst, d.id);
    base::PutVarint64(dst, d.generation);
    base::PutVarint64(dst, d.version);
  }
}

bool DecodeGossipSyn(std::string_view body, std::string* cluster, std::string* from,
                     std::vector<GossipDigest>* digests) {
  uint32_t n;
  if (!GetString(&body, cluster) || !GetString(&body, from) || !base::GetVarint32(&body, &n) || n > body.size()) {
    return false;
  }
  digests->resize(n);
  for (auto& d : *digests) {
    if (!GetString(&body, &d.id) || !base::GetVarint64(&body, &d.generation) || !base::GetVarint64(&body, &d.version)) {
      return false;
    }
  }
  return body.empty();
}

void EncodeGossipAck(std::string* dst, const std::vector<MemberState>& states, const std::vector<std::string>& wants) {
  PutStates(dst, states);
  base::PutVarint32(dst, static_cast<uint32_t>(wants.size()));
  for (const auto& w : wants) base::PutLengthPrefixed(dst, w);
}

bool DecodeGossipAck(std::string_view payload, std::vector<MemberState>* states, std::vector<std::string>* wants) {
  uint32_t n;
  if (!GetStates(&payload, states) || !base::GetVarint32(&payload, &n) || n > payload.size()) return false;
  wants->resize(n);
  for (auto& w : *wants) {
    if (!GetString(&payload, &w)) return false;
  }
  return payload.empty();
}

void EncodeGossipPush(std::string* dst, std::string_view cluster, std::string_view from,
                      const std::vector<MemberState>& states) {
  base::PutLengthPrefixed(dst, cluster);
  base::PutLengthPrefixed(dst, from);
  PutStates(dst, states);
}

bool DecodeGossipPush(std::string_view body, std::string* cluster, std::string* from,
                      std::vector<MemberState>* states) {
  return GetString(&body, cluster) && GetString(&body, from) && GetStates(&body, states) && body.empty();
}

Gossiper::Gossiper(GossipOptions options, ring::MembershipView* view, FailureDetector* detector,
                   Transport* transport, base::Env* env, base::Clock* clock, base::Logger* logger)
    : options_(std::move(options)),
      view_(view),
      detector_(detector),
      transport_(transport),
      env_(env),
      clock_(clock),
      logger_(logger),
      rnd_(options_.seed) {
  MemberState self;
  self.node = options_.self;
  self.generation = options_.generation;
  self.version = 1;
  self.status = options_.status;
  self.next_weight = options_.next_weight;
  table_[self.node.id] = Entry{self, clock_->NowMicros()};
}

Status Gossiper::Load() {
  if (!options_.members_path.empty()) {
    auto loaded = LoadMembersFile(env_, options_.members_path);
    if (!loaded.ok()) {
      LOG_ERROR(logger_, "member list: %s (starting from the seeds alone)", loaded.status().ToString().c_str());
    } else {
      Apply(loaded.value());
    }
  }
  PublishRing();
  return Status::OK();
}

bool Gossiper::TakeLocked(const MemberState& s, uint64_t now, bool* ring_changed) {
  if (s.node.id.empty() || s.node.id == options_.self.id) return false;  // only a member speaks for itself
  if (!ring::ValidateNode(s.node).ok()) {
    LOG_WARN(logger_, "gossip: ignoring invalid member %s: %s", s.node.ToString().c_str(),
             ring::ValidateNode(s.node).ToString().c_str());
    return false;
  }
  auto it = table_.find(s.node.id);
  if (it != table_.end() && !s.NewerThan(it->second.state)) return false;
  if (it == table_.end() || !SameForTheRing(it->second.state, s)) *ring_changed = true;
  if (it == table_.end()) LOG_INFO(logger_, "member %s joined the view", s.node.ToString().c_str());
  // Another id at the same address was an earlier life of this process's address.
  for (auto other = table_.begin(); other != table_.end();) {
    if (other->first != s.node.id && other->first != options_.self.id && other->second.state.node.address == s.node.address) {
      LOG_INFO(logger_, "member %s replaced by %s at the same address", other->first.c_str(), s.node.id.c_str());
      other = table_.erase(other);
      *ring_changed = true;
    } else {
      ++other;
    }
  }
  table_[s.node.id] = Entry{s, now};
  return true;
}

size_t Gossiper::Apply(const std::vector<MemberState>& states) {
  const uint64_t now = clock_->NowMicros();
  bool ring_changed = false;
  std::vector<const MemberState*> taken;
  {
    base::MutexLock lock(&mu_);
    for (const auto& s : states) {
      if (TakeLocked(s, now, &ring_changed)) taken.push_back(&s);
    }
    stats_.states_received += taken.size();
  }
  if (ring_changed) PublishRing();
  for (const MemberState* s : taken) {
    detector_->ReportRelayedHeartbeat(s->node.id);
    detector_->ReportSuspicions(s->node.id, s->suspects);
  }
  return taken.size();
}

void Gossiper::PublishRing() {
  std::vector<ring::NodeInfo> in_force, after, all;
  std::string unavailable;
  std::vector<MemberState> persisted;
  {
    base::MutexLock lock(&mu_);
    for (const auto& [id, e] : table_) {
      const MemberStatus status = e.state.status;
      if (!Gone(status)) all.push_back(e.state.node);
      if (OwnsRanges(status)) in_force.push_back(e.state.node);
      if (OwnsRangesAfter(status)) after.push_back(After(e.state));
      if (status == MemberStatus::kRemoving && unavailable.empty()) unavailable = id;
      if (id != options_.self.id) persisted.push_back(e.state);
    }
  }
  detector_->SetMembers(all);
  Status s = view_->Update(std::move(in_force), std::move(after), std::move(unavailable));
  if (!s.ok()) LOG_ERROR(logger_, "cannot publish the new ring: %s", s.ToString().c_str());
  if (options_.members_path.empty()) return;
  s = SaveMembersFile(env_, options_.members_path, persisted);
  if (!s.ok()) LOG_ERROR(logger_, "cannot persist the member list: %s", s.ToString().c_str());
}

void Gossiper::SetSelfStatus(MemberStatus status) {
  {
    base::MutexLock lock(&mu_);
    MemberState& self = table_[options_.self.id].state;
    if (self.status == status) return;
    LOG_INFO(logger_, "this node is now %s", MemberStatusName(status));
    self.status = status;
    self.version++;
  }
  PublishRing();
}

void Gossiper::SetSelfWeights(double weight, double next_weight) {
  {
    base::MutexLock lock(&mu_);
    MemberState& self = table_[options_.self.id].state;
    if (self.node.weight == weight && self.next_weight == next_weight) return;
    LOG_INFO(logger_, "this node's weight is %g (after the running change: %g)", weight,
             next_weight > 0 ? next_weight : weight);
    self.node.weight = weight;
    self.next_weight = next_weight;
    self.version++;
  }
  PublishRing();
}

Status Gossiper::SetStatusOf(std::string_view id, MemberStatus status) {
  if (id == options_.self.id) return Status::InvalidArgument("a node does not speak for itself through SetStatusOf");
  {
    base::MutexLock lock(&mu_);
    auto it = table_.find(id);
    if (it == table_.end()) return Status::NotFound("no member " + std::string(id) + " in the gossip table");
    if (it->second.state.status == status) return Status::OK();
    LOG_INFO(logger_, "member %s is now %s (this node speaks for it)", it->first.c_str(), MemberStatusName(status));
    it->second.state.status = status;
    it->second.state.version++;
  }
  PublishRing();
  return Status::OK();
}

base::Result<MemberStatus> Gossiper::StatusOf(std::string_view id) const {
  base::MutexLock lock(&mu_);
  auto it = table_.find(id);
  if (it == table_.end()) return Status::NotFound("no member " + std::string(id) + " in the gossip table");
  return it->second.state.status;
}

void Gossiper::UpdateSelf(uint64_t load_bytes, uint64_t load_keys, std::vector<std::string> suspects,
                          std::vector<std::pair<std::string, uint64_t>> hints) {
  base::MutexLock lock(&mu_);
  MemberState& self = table_[options_.self.id].state;
  self.load_bytes = load_bytes;
  self.load_keys = load_keys;
  self.suspects = std::move(suspects);
  self.hints = std::move(hints);
}

std::vector<GossipDigest> Gossiper::Digests() const {
  std::vector<GossipDigest> digests;
  base::MutexLock lock(&mu_);
  for (const auto& [id, e] : table_) digests.push_back({id, e.state.generation, e.state.version});
  return digests;
}

void Gossiper::PeersByLiveness(std::vector<ring::NodeInfo>* up, std::vector<ring::NodeInfo>* down) const {
  base::MutexLock lock(&mu_);
  for (const auto& [id, e] : table_) {
    if (id == options_.self.id) continue;
    (detector_->IsDown(e.state.node) ? down : up)->push_back(e.state.node);
  }
}

std::vector<ring::NodeInfo> Gossiper::PickPeers() {
  std::vector<ring::NodeInfo> up, down;
  PeersByLiveness(&up, &down);
  std::vector<ring::NodeInfo> picked;
  if (!up.empty()) picked.push_back(up[rnd_.Uniform(up.size())]);
  if (!down.empty() && rnd_.Uniform(up.size() + 1) < down.size()) picked.push_back(down[rnd_.Uniform(down.size())]);
  const bool picked_seed = !picked.empty() && std::count(options_.seeds.begin(), options_.seeds.end(), picked[0].address);
  std::vector<std::string> seeds;
  for (const auto& s : options_.seeds) {
    if (s != options_.self.address) seeds.push_back(s);
  }
  if (!seeds.empty() && (!picked_seed || up.size() < seeds.size())) {
    ring::NodeInfo seed;
    seed.address = seeds[rnd_.Uniform(seeds.size())];
    if (picked.empty() || picked[0].address != seed.address) picked.push_back(seed);
  }
  return picked;
}

void Gossiper::Tick() {
  {
    base::MutexLock lock(&mu_);
    Entry& self = table_[options_.self.id];
    self.state.version++;  // the heartbeat
    self.updated_us = clock_->NowMicros();
    stats_.rounds++;
  }
  for (const auto& peer : PickPeers()) ExchangeWith(peer);
}

void Gossiper::ExchangeWith(const ring::NodeInfo& peer) {
  {
    base::MutexLock lock(&mu_);
    stats_.syns_sent++;
  }
  std::vector<GossipDigest> digests = Digests();
  std::string body;
  EncodeGossipSyn(&body, options_.cluster, options_.self.id, digests);
  transport_->Call(peer, Op(ClusterOpcode::kGossipSyn), std::move(body), options_.timeout_ms,
                   [this, peer, digests = std::move(digests)](const Status& s, std::string_view payload) {
                     if (!s.ok()) {
                       if (s.IsInvalidArgument()) {
                         LOG_WARN(logger_, "gossip with %s refused: %s", peer.address.c_str(), s.ToString().c_str());
                       }
                       return;
                     }
                     OnAck(peer, digests, payload);
                   });
}

void Gossiper::OnAck(const ring::NodeInfo& peer, const std::vector<GossipDigest>& sent, std::string_view payload) {
  std::vector<MemberState> states;
  std::vector<std::string> wants;
  if (!DecodeGossipAck(payload, &states, &wants)) {
    LOG_WARN(logger_, "gossip: malformed reply from %s", peer.address.c_str());
    return;
  }
  Apply(states);
  std::vector<MemberState> pushed;
  std::string peer_id;
  {
    base::MutexLock lock(&mu_);
    peer_id = PeerIdLocked(peer);
    const std::set<std::string_view> wanted(wants.begin(), wants.end());
    for (const GossipDigest& d : sent) {
      if (!peer_id.empty() && !wanted.contains(d.id)) NoteHeldLocked(peer_id, d.id, d.generation, d.version);
    }
    for (const auto& id : wants) {
      auto it = table_.find(id);
      if (it != table_.end()) pushed.push_back(it->second.state);
    }
    stats_.states_sent += pushed.size();
  }
  if (pushed.empty()) return;
  std::string body;
  EncodeGossipPush(&body, options_.cluster, options_.self.id, pushed);
  std::vector<GossipDigest> given;
  for (const MemberState& m : pushed) given.push_back({m.node.id, m.generation, m.version});
  transport_->Call(peer, Op(ClusterOpcode::kGossipPush), std::move(body), options_.timeout_ms,
                   [this, peer_id, given = std::move(given)](const Status& s, std::string_view) {
                     if (!s.ok() || peer_id.empty()) return;
                     base::MutexLock lock(&mu_);
                     for (const GossipDigest& d : given) NoteHeldLocked(peer_id, d.id, d.generation, d.version);
                   });
}

void Gossiper::NoteHeldLocked(std::string_view peer, std::string_view member, uint64_t generation, uint64_t version) {
  auto by_peer = held_.find(peer);
  if (by_peer == held_.end()) by_peer = held_.emplace(std::string(peer), decltype(held_)::mapped_type()).first;
  auto [it, fresh] = by_peer->second.try_emplace(std::string(member), generation, version);
  if (!fresh) it->second = std::max(it->second, std::pair<uint64_t, uint64_t>(generation, version));
}

std::pair<uint64_t, uint64_t> Gossiper::HeldLocked(std::string_view peer, std::string_view member) const {
  auto by_peer = held_.find(peer);
  if (by_peer == held_.end()) return {0, 0};
  auto it = by_peer->second.find(member);
  return it == by_peer->second.end() ? std::pair<uint64_t, uint64_t>(0, 0) : it->second;
}

std::string Gossiper::PeerIdLocked(const ring::NodeInfo& peer) const {
  if (!peer.id.empty()) return peer.id;
  for (const auto& [id, e] : table_) {
    if (e.state.node.address == peer.address) return id;
  }
  return "";
}

base::Result<GossipDigest> Gossiper::DigestOf(std::string_view id) const {
  base::MutexLock lock(&mu_);
  auto it = table_.find(id);
  if (it == table_.end()) return Status::NotFound("no member " + std::string(id) + " in the gossip table");
  return GossipDigest{it->first, it->second.state.generation, it->second.state.version};
}

std::vector<std::string> Gossiper::NotYetHeard(const GossipDigest& digest) const {
  const std::pair<uint64_t, uint64_t> wanted(digest.generation, digest.version);
  std::vector<std::string> out;
  base::MutexLock lock(&mu_);
  for (const auto& [id, e] : table_) {
    const MemberStatus st = e.state.status;
    if (id == options_.self.id || id == digest.id || st == MemberStatus::kLeft || st == MemberStatus::kRemoved ||
        detector_->IsDown(e.state.node)) {
      continue;
    }
    if (HeldLocked(id, digest.id) < wanted) out.push_back(id);
  }
  return out;
}

void Gossiper::Spread() {
  std::vector<ring::NodeInfo> up, down;
  PeersByLiveness(&up, &down);
  for (const auto& peer : up) ExchangeWith(peer);
}

base::Result<std::string> Gossiper::OnSyn(std::string_view body) {
  std::string cluster, from;
  std::vector<GossipDigest> digests;
  if (!DecodeGossipSyn(body, &cluster, &from, &digests)) return Status::InvalidArgument("malformed GOSSIP_SYN body");
  if (cluster != options_.cluster) {
    base::MutexLock lock(&mu_);
    stats_.refused_cluster++;
    LOG_WARN(logger_, "gossip from %s refused: it is in cluster '%s', this node is in cluster '%s'", from.c_str(),
             cluster.c_str(), options_.cluster.c_str());
    return Status::InvalidArgument("cluster name mismatch: gossip from cluster '" + cluster +
                                   "', this node is in cluster '" + options_.cluster + "'");
  }
  detector_->ReportHeartbeat(from);  // it just spoke
  std::vector<MemberState> newer;
  std::vector<std::string> wants;
  base::MutexLock lock(&mu_);
  stats_.syns_received++;
  for (const auto& d : digests) NoteHeldLocked(from, d.id, d.generation, d.version);
  std::map<std::string_view, const GossipDigest*> theirs;
  for (const auto& d : digests) theirs[d.id] = &d;
  for (const auto& [id, e] : table_) {
    auto it = theirs.find(id);
    const bool they_lack = it == theirs.end() || e.state.NewerThan(MemberState{{}, it->second->generation,
                                                                              it->second->version});
    if (they_lack) newer.push_back(e.state);
  }
  for (const auto& d : digests) {
    auto it = table_.find(d.id);
    if (d.id == options_.self.id) continue;
    if (it == table_.end() || MemberState{{}, d.generation, d.version}.NewerThan(it->second.state)) {
      wants.push_back(d.id);
    }
  }
  stats_.states_sent += newer.size();
  std::string payload;
  EncodeGossipAck(&payload, newer, wants);
  return payload;
}

Status Gossiper::OnPush(std::string_view body) {
  std::string cluster, from;
  std::vector<MemberState> states;
  if (!DecodeGossipPush(body, &cluster, &from, &states)) return Status::InvalidArgument("malformed GOSSIP_PUSH body");
  if (cluster != options_.cluster) {
    LOG_WARN(logger_, "gossip push from %s refused: it is in cluster '%s', this node is in cluster '%s'",
             from.c_str(), cluster.c_str(), options_.cluster.c_str());
    return Status::InvalidArgument("cluster name mismatch: gossip from cluster '" + cluster +
                                   "', this node is in cluster '" + options_.cluster + "'");
  }
  Apply(states);
  return Status::OK();
}

std::vector<MemberView> Gossiper::Snapshot() const {
  const uint64_t now = clock_->NowMicros();
  std::vector<MemberView> out;
  base::MutexLock lock(&mu_);
  auto self = table_.find(options_.self.id);
  out.push_back(MemberView{self->second.state, 0, true});
  for (const auto& [id, e] : table_) {
    if (id == options_.self.id) continue;
    out.push_back(MemberView{e.state, now - std::min(now, e.updated_us), false});
  }
  return out;
}

std::vector<ring::NodeInfo> Gossiper::members() const {
  std::vector<ring::NodeInfo> out;
  for (const auto& v : Snapshot()) out.push_back(v.state.node);
  return out;
}

GossipStats Gossiper::stats() const {
  base::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace kvring::repl
