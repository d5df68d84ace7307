#include "test/util/sim_run.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "base/hash.h"
#include "base/random.h"
#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/value_format.h"
#include "test/util/history.h"
#include "test/util/sim_cluster.h"

namespace kvring::repl::testing {
namespace {

constexpr uint64_t kMaxStepUs = 30'000;
constexpr int kMaxSiblings = 16;  // per write (VersioningOptions::max_siblings)
// What a read may return: merges between replicas legitimately go past the
// per-write cap, up to four times it (docs/versioning.md, "The sibling cap").
constexpr int kReadSiblingBound = 4 * kMaxSiblings;

// One client: at most one operation in flight, and what it last saw of each key.
struct Client {
  int64_t process = 0;
  std::shared_ptr<GetOutcome> get;
  std::shared_ptr<WriteOutcome> write;
  test::PendingRead pending_get;
  test::PendingWrite pending_write;
  std::string key;
  std::string value;  // of the write in flight ("" for a delete)
  std::string sent_context;
  uint8_t flags = 0;
  std::map<std::string, std::string> last_context;  // by key

  bool busy() const { return (get && !get->done()) || (write && !write->done()); }
};

std::optional<test::HistoryContext> HistoryContextOf(std::string_view key, std::string_view context) {
  return test::HistoryContextOfClientContext(key, context);
}
test::ConsistencyLevel LevelOf(uint8_t level) { return test::LevelOfConsistencyByte(level); }
bool Indeterminate(const base::Status& s) { return test::IndeterminateOutcome(s); }

class Run {
 public:
  explicit Run(const SimRunOptions& o)
      : options_(o), rnd_(o.seed), cluster_(ClusterOptions(o)),
        history_(test::HistoryWriter::InMemory(
            {.n = 3, .max_siblings = kReadSiblingBound, .note = "kvsim seed " + std::to_string(o.seed)},
            cluster_.net().clock())) {
    for (int i = 0; i < o.keys; ++i) keys_.push_back("rk" + std::to_string(i));
    clients_.resize(static_cast<size_t>(o.clients));
    for (size_t i = 0; i < clients_.size(); ++i) clients_[i].process = static_cast<int64_t>(i) + 1;
  }

  SimRunResult Go() {
    const uint64_t start = cluster_.net().now();
    for (int step = 0; step < options_.steps && !::testing::Test::HasFailure(); ++step) {
      Collect();
      if (rnd_.OneIn(12)) ChangeFaults();
      Client& client = clients_[rnd_.Uniform(clients_.size())];
      if (!client.busy()) StartOperation(&client);
      cluster_.net().RunFor(rnd_.Uniform(kMaxStepUs));
    }
    cluster_.HealEverything();
    Collect();
    for (const Client& c : clients_) EXPECT_FALSE(c.busy()) << "an operation never completed";
    CheckFinalReads();
    result_.simulated_us = cluster_.net().now() - start;
    return Finish();
  }

 private:
  static SimClusterOptions ClusterOptions(const SimRunOptions& o) {
    SimClusterOptions c;
    c.nodes = o.nodes;
    c.n = 3;
    c.network.seed = o.seed * 0x9e3779b97f4a7c15ull + 1;
    c.network.faults = {.min_delay_us = 100, .max_delay_us = 20'000, .drop_probability = 0.02};
    c.network.trace = true;
    c.versioning.max_siblings = kMaxSiblings;
    c.versioning.warn_siblings = 0;
    return c;
  }

  std::string NodeId(int i) { return "n" + std::to_string(i); }
  std::string Address(int i) { return SimCluster::AddressOf(NodeId(i)); }
  std::string RandomNode() { return NodeId(1 + static_cast<int>(rnd_.Uniform(options_.nodes))); }
  std::string RandomUpNode() {
    for (;;) {
      std::string id = RandomNode();
      if (!cluster_.net().IsDown(SimCluster::AddressOf(id))) return id;
    }
  }
  uint8_t RandomLevel() {
    const uint8_t levels[] = {1, 2, net::kConsistencyQuorum, net::kConsistencyAll, 3};
    return levels[rnd_.Uniform(5)];
  }

  void ChangeFaults() {
    test::FakeNetwork& net = cluster_.net();
    ++result_.faults;
    switch (rnd_.Uniform(6)) {
      case 0: return Partition();
      case 1: return DownOne();
      case 2:  // a slow link: replies after the deadline
        return net.SetLinkFaults(SimCluster::AddressOf(RandomNode()), SimCluster::AddressOf(RandomNode()),
                                 {.min_delay_us = 300'000, .max_delay_us = 800'000, .drop_probability = 0.1});
      case 3:  // a lossy link
        return net.SetLinkFaults(SimCluster::AddressOf(RandomNode()), SimCluster::AddressOf(RandomNode()),
                                 {.min_delay_us = 100, .max_delay_us = 5'000, .drop_probability = 0.5});
      default:
        return HealAll();
    }
  }
  // One or two nodes (a third of them, on average) cut from the rest.
  void Partition() {
    std::vector<std::string> side_a, side_b;
    for (int i = 1; i <= options_.nodes; ++i) (rnd_.OneIn(3) ? side_a : side_b).push_back(Address(i));
    cluster_.net().SetPartitionMode(rnd_.OneIn(2) ? test::PartitionMode::kRefused : test::PartitionMode::kBlackHole);
    cluster_.net().Partition(side_a, side_b);
  }
  // A node goes down (at most two at a time).
  void DownOne() {
    int down = 0;
    for (int i = 1; i <= options_.nodes; ++i) down += cluster_.net().IsDown(Address(i));
    if (down < 2) cluster_.net().SetDown(SimCluster::AddressOf(RandomNode()));
  }
  void HealAll() {
    cluster_.net().Heal();
    cluster_.net().ClearLinkFaults();
    for (int i = 1; i <= options_.nodes; ++i) cluster_.net().SetDown(Address(i), false);
  }

  // A context for `key`: the client's last (most often), an older one, or none.
  std::string PickContext(const Client& client, const std::string& key) {
    const uint64_t choice = rnd_.Uniform(10);
    auto last = client.last_context.find(key);
    if (choice < 6 && last != client.last_context.end()) return last->second;
    auto& seen = contexts_seen_[key];
    if (choice < 8 && !seen.empty()) return seen[rnd_.Uniform(seen.size())];
    return "";
  }

  void StartOperation(Client* client) {
    client->key = keys_[rnd_.Uniform(keys_.size())];
    const std::string coordinator = RandomUpNode();
    const uint64_t op = rnd_.Uniform(100);
    const bool strict = rnd_.OneIn(3);
    client->get.reset();
    client->write.reset();
    if (op < 40) return StartGet(client, coordinator, strict);
    client->sent_context = PickContext(*client, client->key);
    client->flags = strict ? net::kWriteFlagStrict : 0;
    if (op < 85 || client->sent_context.empty()) {
      client->value = client->key + "#" + std::to_string(next_value_++);
    } else {
      client->value.clear();
    }
    StartWrite(client, coordinator, RandomLevel());
  }

  void StartGet(Client* client, const std::string& coordinator, bool strict) {
    const uint8_t r = RandomLevel();
    client->pending_get = history_->InvokeGet(client->process, client->key, {.r = LevelOf(r), .strict = strict});
    client->get = cluster_.StartGet(coordinator, client->key, r, strict ? net::kGetFlagStrict : 0);
  }

  void StartWrite(Client* client, const std::string& coordinator, uint8_t w) {
    const test::WriteParams params{.w = LevelOf(w), .strict = (client->flags & net::kWriteFlagStrict) != 0};
    const auto context = HistoryContextOf(client->key, client->sent_context);
    if (!client->value.empty()) {
      client->pending_write = history_->InvokePut(client->process, client->key, client->value, context, params);
      client->write = cluster_.StartPut(coordinator, client->key, client->value, client->sent_context, w,
                                        client->flags);
    } else {
      client->pending_write = history_->InvokeDelete(client->process, client->key, context, params);
      client->write = cluster_.StartDelete(coordinator, client->key, client->sent_context, w, client->flags);
    }
    written_.insert({client->key, client->value});
  }

  // Takes in the outcomes of the operations that completed since the last call.
  void Collect() {
    for (Client& c : clients_) {
      if (c.get && c.get->done()) CollectGet(&c);
      if (c.write && c.write->done()) CollectWrite(&c);
    }
  }

  void CollectGet(Client* c) {
    EXPECT_EQ(1, c->get->calls);
    CheckRead(c->key, *c->get);
    RecordGet(std::move(c->pending_get), *c->get);
    if (c->get->status.ok()) {
      c->last_context[c->key] = c->get->context();
      contexts_seen_[c->key].push_back(c->get->context());
    }
    ++result_.gets;
    c->get.reset();
  }

  void RecordGet(test::PendingRead&& pending, const GetOutcome& got) {
    const base::Status& s = got.status;
    if (!s.ok() && !s.IsNotFound()) {
      return Indeterminate(s) ? history_->Info(std::move(pending), s.ToString())
                              : history_->Fail(std::move(pending), s.ToString());
    }
    std::vector<test::ReadValue> values;
    if (got.set) {
      for (const Sibling* sib : got.set->LiveSiblings()) values.push_back({sib->value, sib->dot});
    }
    history_->Ok(std::move(pending), values, test::ContextOf(got.set ? got.set->history() : VersionVector()));
  }

  void CollectWrite(Client* c) {
    EXPECT_EQ(1, c->write->calls);
    ledger_.Record(c->key, c->value, c->value.empty(), c->sent_context, c->flags, *c->write);
    const base::Status& s = c->write->status;
    if (s.ok()) {
      ++result_.acknowledged;
      acknowledged_dots_[{c->key, c->value}] = c->write->dot();
      history_->Ok(std::move(c->pending_write), c->write->dot(), c->write->acks());
      c->last_context[c->key] = c->write->result.context;
      contexts_seen_[c->key].push_back(c->write->result.context);
    } else {
      ++result_.failed;
      if (Indeterminate(s)) {
        history_->Info(std::move(c->pending_write), s.ToString());
      } else {
        history_->Fail(std::move(c->pending_write), s.ToString());
      }
    }
    c->write.reset();
  }

  void CheckRead(const std::string& key, const GetOutcome& got) {
    if (!got.status.ok() || !got.set) return;
    EXPECT_TRUE(got.set->CheckInvariants().ok()) << key << ": " << got.set->CheckInvariants().ToString();
    for (const Sibling* s : got.set->LiveSiblings()) {
      EXPECT_TRUE(written_.count({key, s->value})) << key << ": read '" << s->value << "', never written";
      auto acked = acknowledged_dots_.find({key, s->value});
      if (acked != acknowledged_dots_.end()) {
        EXPECT_EQ(acked->second, s->dot) << key << ": '" << s->value << "' under another dot";
      }
    }
  }

  // Two reads at ALL of every key once every fault healed, both recorded as final.
  void CheckFinalReads() {
    const int64_t process = static_cast<int64_t>(clients_.size()) + 1;
    for (const std::string& key : keys_) {
      GetOutcome first = FinalRead(process, key);
      GetOutcome second = FinalRead(process, key);
      ASSERT_TRUE(first.status.ok() && second.status.ok()) << key << ": a read at ALL failed after healing";
      EXPECT_EQ(first.set, second.set) << key << ": two reads at ALL after healing differ";
      for (const std::string& v : ledger_.Violations(key, second.set ? &*second.set : nullptr)) {
        ADD_FAILURE() << "key " << key << ": " << v;
      }
      for (const std::string& id : cluster_.ReplicasOf(key)) {
        EXPECT_EQ(second.set, cluster_.Local(id, key)) << key << " on " << id << " after read repair";
      }
    }
  }

  GetOutcome FinalRead(int64_t process, const std::string& key) {
    test::PendingRead pending =
        history_->InvokeGet(process, key, {.r = test::ConsistencyLevel::All(), .final_read = true});
    GetOutcome got = cluster_.Get(RandomNode(), key, net::kConsistencyAll);
    CheckRead(key, got);
    RecordGet(std::move(pending), got);
    return got;
  }

  SimRunResult Finish() {
    result_.trace = cluster_.net().trace();
    result_.network = cluster_.net().stats();
    for (const std::string& key : keys_) {
      for (const std::string& id : cluster_.ids()) {
        std::optional<SiblingSet> local = cluster_.Local(id, key);
        result_.final_state += key + "@" + id + "=";
        if (local) EncodeSiblingSet(*local, &result_.final_state);
        result_.final_state += "\n";
      }
    }
    uint64_t h = base::Hash64(result_.final_state, options_.seed);
    for (const std::string& line : result_.trace) h = base::Hash64(line, h);
    result_.trace_hash = h;
    EXPECT_TRUE(history_->status().ok()) << "history: " << history_->status().ToString();
    result_.history = history_->Snapshot();
    result_.check = test::CheckHistory(result_.history);
    EXPECT_TRUE(result_.check.clean()) << test::ReportText(result_.check);
    return std::move(result_);
  }

  const SimRunOptions options_;
  base::Random rnd_;
  SimCluster cluster_;
  std::unique_ptr<test::HistoryWriter> history_;
  std::vector<std::string> keys_;
  std::vector<Client> clients_;
  WriteLedger ledger_;
  std::set<std::pair<std::string, std::string>> written_;  // (key, value) of every write attempted
  std::map<std::pair<std::string, std::string>, Dot> acknowledged_dots_;
  std::map<std::string, std::vector<std::string>> contexts_seen_;
  uint64_t next_value_ = 1;
  SimRunResult result_;
};

}  // namespace

SimRunResult RunSimulation(const SimRunOptions& options) { return Run(options).Go(); }

std::string SimRunSummary(const SimRunResult& r) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "%llu writes acknowledged, %llu failed, %llu gets, %llu fault changes; %llu calls: %llu dropped, "
                "%llu refused, %llu lost, %llu timed out, %llu late replies; %.1f s simulated",
                u(r.acknowledged), u(r.failed), u(r.gets), u(r.faults), u(r.network.calls), u(r.network.dropped),
                u(r.network.refused), u(r.network.lost), u(r.network.timeouts), u(r.network.late_replies),
                static_cast<double>(r.simulated_us) / 1e6);
  return buf;
}

}  // namespace kvring::repl::testing
