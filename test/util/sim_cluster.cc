#include "test/util/sim_cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "base/coding.h"
#include "net/protocol.h"
#include "node/node_service.h"
#include "repl/client_context.h"
#include "repl/messages.h"
#include "repl/version_text.h"

namespace kvring::repl::testing {

using base::Status;

std::vector<std::string> GetOutcome::values() const {
  std::vector<std::string> out;
  if (set) {
    for (const Sibling* s : set->LiveSiblings()) out.push_back(s->value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string GetOutcome::context() const {
  return EncodeClientContext(ContextKey::Default(), key, set ? set->history() : VersionVector());
}

std::vector<std::string> WriteOutcome::acks() const {
  std::vector<std::string> out;
  for (const ReplicaAck& a : result.acks) out.push_back(a.node);
  return out;
}

Dot WriteOutcome::dot() const {
  Dot dot;
  VersionVector seen;
  if (result.clock.empty() || !DecodeSiblingClock(result.clock, &dot, &seen).ok()) return Dot();
  return dot;
}

void WriteLedger::Record(std::string_view key, std::string_view value, bool tombstone, std::string_view context,
                         uint8_t flags, const WriteOutcome& outcome) {
  WriteAttempt a;
  a.key.assign(key);
  a.value.assign(value);
  a.tombstone = tombstone;
  a.overwrite = (flags & net::kWriteFlagOverwrite) != 0;
  if (!context.empty()) {
    base::Result<VersionVector> decoded = DecodeClientContext(ContextKey::Default(), key, context);
    if (decoded.ok()) a.context = std::move(decoded).value();  // a refused context supersedes nothing
  }
  a.acknowledged = outcome.status.ok();
  if (a.acknowledged) a.dot = outcome.dot();
  attempts_.push_back(std::move(a));
}

std::vector<std::string> WriteLedger::keys() const {
  std::vector<std::string> out;
  for (const auto& a : attempts_) {
    if (std::find(out.begin(), out.end(), a.key) == out.end()) out.push_back(a.key);
  }
  return out;
}

bool WriteLedger::WasWritten(std::string_view key, std::string_view value) const {
  for (const auto& a : attempts_) {
    if (a.key == key && !a.tombstone && a.value == value) return true;
  }
  return false;
}

std::vector<std::string> WriteLedger::Violations(std::string_view key, const SiblingSet* final) const {
  std::vector<std::string> out;
  auto present = [&](const Dot& dot) {
    if (final == nullptr) return false;
    for (const Sibling& s : final->siblings()) {
      if (s.dot == dot) return true;
    }
    return false;
  };
  auto covered_by_another = [&](const WriteAttempt& w) {
    for (const auto& v : attempts_) {
      if (&v == &w || v.key != w.key) continue;
      if (v.overwrite || v.context.Covers(w.dot)) return true;
    }
    return false;
  };
  for (const auto& w : attempts_) {
    if (w.key != key || !w.acknowledged) continue;
    const std::string what = (w.tombstone ? "delete" : "put '" + w.value + "'") + " acknowledged as " + DotText(w.dot);
    if (w.dot.node.empty()) {
      out.push_back(what + ": the receipt has no clock");
    } else if (!present(w.dot) && !covered_by_another(w)) {
      out.push_back(what + " is lost: not in the final read and no later write's context covered it");
    }
  }
  if (final == nullptr) return out;
  for (const Sibling& s : final->siblings()) {
    bool written = false;
    bool could_have_this_dot = false;  // an acknowledged write named it, or a failed one may have minted it
    for (const auto& a : attempts_) {
      if (a.key != key || a.tombstone != s.tombstone || (!s.tombstone && a.value != s.value)) continue;
      written = true;
      if (!a.acknowledged || a.dot == s.dot) could_have_this_dot = true;
    }
    const std::string what = (s.tombstone ? "a tombstone" : "value '" + s.value + "'") + " at " + DotText(s.dot);
    if (!written) {
      out.push_back(what + " was never written");
    } else if (!could_have_this_dot && !s.tombstone) {
      out.push_back(what + ": every write of that value was acknowledged under another dot");
    }
  }
  return out;
}

SimCluster::SimCluster(SimClusterOptions options)
    : options_(std::move(options)), net_(std::make_unique<test::FakeNetwork>(options_.network)) {
  for (int i = 1; i <= options_.nodes; ++i) {
    ring::NodeInfo info;
    info.id = "n" + std::to_string(i);
    info.address = AddressOf(info.id);
    if (static_cast<size_t>(i) <= options_.dcs.size()) info.dc = options_.dcs[static_cast<size_t>(i - 1)];
    members_.push_back(info);
  }
  const size_t in_force = options_.ring_members > 0 ? static_cast<size_t>(options_.ring_members) : members_.size();
  in_force_.assign(members_.begin(), members_.begin() + static_cast<std::ptrdiff_t>(in_force));
  for (int i = 0; i < options_.nodes; ++i) StartNode(i);
}

SimCluster::~SimCluster() = default;

std::string SimCluster::AddressOf(std::string_view id) {
  return "10.0.0." + std::string(id.substr(1)) + ":7000";
}

SimNode& SimCluster::node(std::string_view id) {
  for (auto& n : nodes_) {
    if (n->info.id == id) return *n;
  }
  ADD_FAILURE() << "no node " << id;
  return *nodes_.front();
}

std::vector<std::string> SimCluster::ids() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m.id);
  return out;
}

void SimCluster::StartNode(int index) {
  auto node = std::make_unique<SimNode>();
  node->info = members_[static_cast<size_t>(index)];
  const std::string dir = "/" + node->info.id;
  Status s = node->env.CreateDir(dir);
  ASSERT_TRUE(s.ok()) << s.ToString();
  lsm::Options db_options;
  db_options.env = &node->env;
  db_options.sync_mode = lsm::SyncMode::kNone;  // durable at once: store completions stay inline
  db_options.memtable_bytes = 16 << 20;         // never flushed in a test: reads never need the disk
  db_options.block_cache_bytes = 1 << 20;
  s = lsm::DB::Open(db_options, dir + "/db", &node->db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  node->io = std::make_unique<base::ThreadPool>(1);
  node->store = std::make_unique<ReplicaStore>(node->db.get(), node->io.get(), node->info.id, options_.versioning,
                                               /*max_set_bytes=*/1 << 20, net_->clock(), base::Logger::Null());
  node->store->RunBulkInline();  // one thread: replayable
  node->liveness = std::make_unique<FailureDetector>(net_->clock(), DetectorOptions(), node->info.id);
  node->liveness->SetMembers(members_);
  ring::RingOptions ring_options;
  ring_options.replication = ring::ReplicationSpec::Total(options_.n);
  if (!options_.replication.empty()) {
    auto spec = ring::ReplicationSpec::Parse(options_.replication);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    ring_options.replication = spec.value();
  }
  if (options_.hints) OpenHints(node.get(), dir);
  auto ring = ring::RingHolder::Create(in_force_, ring_options);
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  node->ring = std::move(ring).value();
  node->endpoint = net_->Endpoint(node->info.address);
  node->endpoint->SetFailureDetector(node->liveness.get());
  node->prober = std::make_unique<Prober>(node->info.id, node->liveness.get(), node->endpoint, DetectorOptions());
  CoordinatorOptions coordinator_options;
  coordinator_options.self = node->info.id;
  coordinator_options.dc = node->info.dc;
  coordinator_options.request_timeout_ms = options_.request_timeout_ms;
  node->coordinator = std::make_unique<Coordinator>(coordinator_options, node->ring.get(), node->store.get(),
                                                    node->endpoint, node->liveness.get(), node->endpoint,
                                                    net_->clock(), base::Logger::Null(), node->hints.get());
  node->leaves = std::make_unique<ScanLeafSource>(node->db.get(), options_.leaf_bits);
  node->aae = std::make_unique<AaeResponder>(node->leaves.get(), node->store.get(), node->endpoint);
  InstallHandler(node.get());
  nodes_.push_back(std::move(node));
}

void SimCluster::OpenHints(SimNode* node, const std::string& dir) {
  HintStoreOptions hint_options;
  hint_options.dir = dir + "/hints";
  hint_options.sync_mode = lsm::SyncMode::kNone;  // durable at once, like the engine
  auto hints = HintStore::Open(hint_options, &node->env, net_->clock(), node->io.get(), base::Logger::Null());
  ASSERT_TRUE(hints.ok()) << hints.status().ToString();
  node->hints = std::move(hints).value();
}

void SimCluster::StartTransition(const std::vector<std::string>& after) {
  std::vector<ring::NodeInfo> next;
  for (const std::string& id : after) next.push_back(node(id).info);
  for (auto& n : nodes_) {
    Status s = n->ring->Update(in_force_, next, "");
    ASSERT_TRUE(s.ok()) << n->info.id << ": " << s.ToString();
    ASSERT_NE(nullptr, n->ring->Transition()) << n->info.id;
  }
}

namespace {

// A replica write's merge, answered once durable (an error at once).
void MergeAndReply(SimNode* node, std::string_view key, SiblingSet set, const test::FakeReply& reply) {
  node->store->Merge(
      node->endpoint, key, std::move(set),
      [reply](Status st, const SiblingSet&) {
        if (!st.ok()) reply(st, {});
      },
      [reply](Status st) { reply(st, {}); });
}

}  // namespace

// The node-to-node half of node/node_service.cc: decode, call the store or the
// coordinator, encode the reply.
void SimCluster::InstallHandler(SimNode* node) {
  node->endpoint->SetHandler([node](uint8_t opcode, std::string_view body, test::FakeReply reply) {
    switch (opcode) {
      case Op(ClusterOpcode::kReplicaRead): {
        std::string_view key;
        if (!base::GetLengthPrefixed(&body, &key) || !body.empty() || key.empty()) {
          return reply(Status::InvalidArgument("malformed REPLICA_READ body"), {});
        }
        node->store->Read(node->endpoint, key, [reply](Status st, std::optional<SiblingSet> set) {
          if (!st.ok()) return reply(st, {});
          std::string payload;
          EncodeReplicaReadReply(&payload, set ? &*set : nullptr);
          reply(Status::OK(), payload);
        });
        return;
      }
      case Op(ClusterOpcode::kReplicaWrite): {
        std::string_view key;
        SiblingSet set;
        Status s = DecodeReplicaWrite(body, &key, &set);
        if (s.ok() && key.empty()) s = Status::InvalidArgument("empty key");
        if (!s.ok()) return reply(s, {});
        return MergeAndReply(node, key, std::move(set), reply);
      }
      case Op(ClusterOpcode::kHintedWrite): {
        std::string_view owner, key;
        SiblingSet set;
        Status s = DecodeHintedWrite(body, &owner, &key, &set);
        if (s.ok() && node->hints == nullptr) s = Status::NotSupported("no hint store");
        if (!s.ok()) return reply(s, {});
        // The hint first, then the set: both are durable inline (SyncMode::kNone).
        node->hints->Add(node->endpoint, owner, key, body.size(), [](Status, AddOutcome) {});
        return MergeAndReply(node, key, std::move(set), reply);
      }
      case Op(ClusterOpcode::kProbe): {
        std::string payload;
        EncodeProbeReply(&payload, node->info.id, 1);
        return reply(Status::OK(), payload);
      }
      case Op(ClusterOpcode::kProbeRequest):
        return node->prober->OnProbeRequest(body, [reply](Status s, std::string payload) { reply(s, payload); });
      case Op(ClusterOpcode::kForwardWrite): {
        ForwardWrite fw;
        if (!DecodeForwardWrite(body, &fw)) return reply(Status::InvalidArgument("malformed FORWARD_WRITE body"), {});
        if (fw.key.empty()) return reply(Status::InvalidArgument("empty key"), {});
        node->coordinator->CoordinateForwarded(fw, [reply](const Status& st, const WriteResult& result) {
          if (!st.ok()) return reply(st, {});
          std::string payload;
          node::EncodeReceipt(result, net::kProtocolVersion, &payload);
          reply(Status::OK(), payload);
        });
        return;
      }
      default: {
        if (AaeResponder::Handles(opcode)) {
          return node->aae->Handle(node->endpoint, opcode, std::string(body),
                                   [reply](Status st, std::string payload) { reply(st, payload); });
        }
        char msg[64];
        std::snprintf(msg, sizeof(msg), "unknown opcode 0x%02x", opcode);
        reply(Status::NotSupported(msg), {});
      }
    }
  });
}

void SimCluster::RunDetectors(uint64_t micros) {
  const uint64_t step = DetectorOptions().probe_interval_ms * 1000;
  for (uint64_t ran = 0; ran < micros; ran += step) {
    for (auto& n : nodes_) n->prober->Tick();
    net_->RunFor(step);
  }
}

std::vector<std::string> SimCluster::ReplicasOf(std::string_view key) const {
  std::vector<std::string> out;
  auto ring = nodes_.front()->ring->Current();
  for (const ring::NodeInfo* n : ring->PreferenceListForKey(key)) out.push_back(n->id);
  return out;
}

std::string SimCluster::KeyWithReplicas(const std::vector<std::string>& replicas) const {
  for (int i = 0; i < 100000; ++i) {
    std::string key = "key-" + std::to_string(i);
    if (ReplicasOf(key) == replicas) return key;
  }
  ADD_FAILURE() << "no key has the replicas asked for";
  return "key-none";
}

std::shared_ptr<GetOutcome> SimCluster::StartGet(std::string_view id, std::string_view key, uint8_t r,
                                                 uint8_t flags) {
  auto outcome = std::make_shared<GetOutcome>();
  outcome->key.assign(key);
  node(id).coordinator->Get(key, r, flags, [this, outcome](const Status& s, const SiblingSet* merged) {
    outcome->calls++;
    outcome->at_us = net_->now();
    outcome->status = s;
    if (merged != nullptr) outcome->set = *merged;
  });
  return outcome;
}

std::shared_ptr<WriteOutcome> SimCluster::StartPut(std::string_view id, std::string_view key, std::string_view value,
                                                   std::string_view context, uint8_t w, uint8_t flags) {
  auto outcome = std::make_shared<WriteOutcome>();
  node(id).coordinator->Put(key, value, context, w, flags, [this, outcome](const Status& s, const WriteResult& result) {
    outcome->calls++;
    outcome->at_us = net_->now();
    outcome->status = s;
    outcome->result = result;
  });
  return outcome;
}

std::shared_ptr<WriteOutcome> SimCluster::StartDelete(std::string_view id, std::string_view key,
                                                      std::string_view context, uint8_t w, uint8_t flags) {
  auto outcome = std::make_shared<WriteOutcome>();
  node(id).coordinator->Delete(key, context, w, flags, [this, outcome](const Status& s, const WriteResult& result) {
    outcome->calls++;
    outcome->at_us = net_->now();
    outcome->status = s;
    outcome->result = result;
  });
  return outcome;
}

template <typename Outcome>
Outcome SimCluster::Await(const std::shared_ptr<Outcome>& outcome) {
  EXPECT_TRUE(net_->RunUntil([&] { return outcome->done(); })) << "the operation never completed";
  net_->RunUntilIdle();
  EXPECT_EQ(1, outcome->calls) << "the callback must run exactly once";
  return *outcome;
}

GetOutcome SimCluster::Get(std::string_view id, std::string_view key, uint8_t r) {
  return Await(StartGet(id, key, r));
}

WriteOutcome SimCluster::Put(std::string_view id, std::string_view key, std::string_view value,
                             std::string_view context, uint8_t w, uint8_t flags) {
  return Await(StartPut(id, key, value, context, w, flags));
}

WriteOutcome SimCluster::Delete(std::string_view id, std::string_view key, std::string_view context, uint8_t w,
                                uint8_t flags) {
  return Await(StartDelete(id, key, context, w, flags));
}

std::optional<SiblingSet> SimCluster::Local(std::string_view id, std::string_view key) {
  struct Read {
    bool done = false;
    std::optional<SiblingSet> set;
  };
  auto read = std::make_shared<Read>();  // outlives this call if the read never completes
  SimNode& n = node(id);
  n.store->Read(n.endpoint, key, [read](Status s, std::optional<SiblingSet> set) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    read->set = std::move(set);
    read->done = true;
  });
  if (!read->done) {
    EXPECT_TRUE(net_->RunUntil([&] { return read->done; })) << "local read of " << key << " never completed";
  }
  return read->set;
}

void SimCluster::HealEverything() {
  net_->Heal();
  net_->ClearLinkFaults();
  test::LinkFaults calm = options_.network.faults;
  calm.drop_probability = 0;
  net_->SetDefaultFaults(calm);
  for (const auto& m : members_) net_->SetDown(m.address, false);
  net_->RunUntilIdle();
}

}  // namespace kvring::repl::testing
