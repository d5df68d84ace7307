// A seeded randomized test of the coordinator: 5 simulated nodes (N=3) over the
// fake network, clients putting, deleting and getting a few keys through random
// coordinators (with the context of their last get or receipt, a stale one, or
// none), while links delay, drop and reorder messages, partitions come and go in
// both modes and nodes go down and come back. Then every fault heals and each
// key is read at ALL twice. What must hold:
//   - every get answers values some write wrote (no phantom), and a value an
//     acknowledged write wrote comes with that write's dot;
//   - after healing, every acknowledged write is in the final read, unless a
//     write whose context covered it came later (contexts decoded with
//     repl/client_context.h); nothing appears that was never written;
//   - after the final reads (read repair), every replica holds the same set;
//   - every operation's callback ran exactly once.
// No write is ever stored under two dots: a forward whose connection was lost
// after it was sent (Aborted) is not forwarded again.
// The test runs 8 rounds (seeds seed..seed+7) and prints the seed and what each
// round did; KV_SEED=N replays it exactly (the network and the clients draw
// everything from it, and the engines keep everything in their memtables).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/random.h"
#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/value_format.h"
#include "repl/version_text.h"
#include "test/repl/sim_cluster.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using testing::GetOutcome;
using testing::SimCluster;
using testing::SimClusterOptions;
using testing::WriteOutcome;

constexpr int kNodes = 5;
constexpr int kKeys = 6;
constexpr int kClients = 6;

struct RunSummary {
  std::vector<std::string> trace;  // the network's
  std::string final_state;         // every replica's encoded set of every key
  uint64_t acknowledged = 0;
  uint64_t failed = 0;
  uint64_t gets = 0;
  test::FakeNetworkStats network;
};

// One client: at most one operation in flight, and what it last saw of each key.
struct Client {
  std::shared_ptr<GetOutcome> get;
  std::shared_ptr<WriteOutcome> write;
  std::string key;
  std::string value;  // of the write in flight ("" for a delete)
  std::string sent_context;
  uint8_t flags = 0;
  std::string coordinator;
  size_t trace_at_start = 0;  // the network trace's length when the operation started
  std::map<std::string, std::string> last_context;  // by key

  bool busy() const { return (get && !get->done()) || (write && !write->done()); }
};

class RandomRun {
 public:
  explicit RandomRun(uint64_t seed) : rnd_(seed), cluster_(Options(seed)) {
    for (int i = 0; i < kKeys; ++i) keys_.push_back("rk" + std::to_string(i));
    clients_.resize(kClients);
  }

  RunSummary Run(int steps) {
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
      Collect();
      if (rnd_.OneIn(12)) ChangeFaults();
      Client& client = clients_[rnd_.Uniform(clients_.size())];
      if (!client.busy()) StartOperation(&client);
      cluster_.net().RunFor(rnd_.Uniform(30'000));
    }
    cluster_.HealEverything();
    Collect();
    for (const Client& c : clients_) EXPECT_FALSE(c.busy()) << "an operation never completed";
    CheckFinalReads();
    return Summarize();
  }

 private:
  static SimClusterOptions Options(uint64_t seed) {
    SimClusterOptions o;
    o.nodes = kNodes;
    o.n = 3;
    o.network.seed = seed * 0x9e3779b97f4a7c15ull + 1;
    o.network.faults = {.min_delay_us = 100, .max_delay_us = 20'000, .drop_probability = 0.02};
    o.network.trace = true;
    o.versioning.max_siblings = 16;
    o.versioning.warn_siblings = 0;
    return o;
  }

  std::string RandomNode() { return "n" + std::to_string(1 + rnd_.Uniform(kNodes)); }
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
    switch (rnd_.Uniform(6)) {
      case 0: {  // a partition: one or two nodes cut from the rest
        std::vector<std::string> side_a, side_b;
        for (int i = 1; i <= kNodes; ++i) {
          (rnd_.OneIn(3) ? side_a : side_b).push_back(SimCluster::AddressOf("n" + std::to_string(i)));
        }
        net.SetPartitionMode(rnd_.OneIn(2) ? test::PartitionMode::kRefused : test::PartitionMode::kBlackHole);
        net.Partition(side_a, side_b);
        break;
      }
      case 1: {  // a node goes down (at most two at a time)
        int down = 0;
        for (int i = 1; i <= kNodes; ++i) down += net.IsDown(SimCluster::AddressOf("n" + std::to_string(i)));
        if (down < 2) net.SetDown(SimCluster::AddressOf(RandomNode()));
        break;
      }
      case 2:  // a slow link: replies after the deadline
        net.SetLinkFaults(SimCluster::AddressOf(RandomNode()), SimCluster::AddressOf(RandomNode()),
                          {.min_delay_us = 300'000, .max_delay_us = 800'000, .drop_probability = 0.1});
        break;
      case 3:  // a lossy link
        net.SetLinkFaults(SimCluster::AddressOf(RandomNode()), SimCluster::AddressOf(RandomNode()),
                          {.min_delay_us = 100, .max_delay_us = 5'000, .drop_probability = 0.5});
        break;
      default:  // healing
        net.Heal();
        net.ClearLinkFaults();
        for (int i = 1; i <= kNodes; ++i) net.SetDown(SimCluster::AddressOf("n" + std::to_string(i)), false);
        break;
    }
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
    client->coordinator = coordinator;
    client->trace_at_start = cluster_.net().trace().size();
    const uint64_t op = rnd_.Uniform(100);
    client->get.reset();
    client->write.reset();
    if (op < 40) {
      client->get = cluster_.StartGet(coordinator, client->key, RandomLevel());
      return;
    }
    client->sent_context = PickContext(*client, client->key);
    client->flags = 0;
    if (op < 85 || client->sent_context.empty()) {
      client->value = client->key + "#" + std::to_string(next_value_++);
      client->write = cluster_.StartPut(coordinator, client->key, client->value, client->sent_context, RandomLevel());
    } else {
      client->value.clear();
      client->write = cluster_.StartDelete(coordinator, client->key, client->sent_context, RandomLevel());
    }
    written_.insert({client->key, client->value});
  }

  // Takes in the outcomes of the operations that completed since the last call.
  void Collect() {
    for (Client& c : clients_) {
      if (c.get && c.get->done()) {
        EXPECT_EQ(1, c.get->calls);
        CheckRead(c.key, *c.get);
        if (c.get->status.ok()) {
          c.last_context[c.key] = c.get->context();
          contexts_seen_[c.key].push_back(c.get->context());
        }
        ++summary_.gets;
        c.get.reset();
      }
      if (c.write && c.write->done()) {
        EXPECT_EQ(1, c.write->calls);
        ledger_.Record(c.key, c.value, c.value.empty(), c.sent_context, c.flags, *c.write);
        if (c.write->status.ok()) {
          ++summary_.acknowledged;
          acknowledged_dots_[{c.key, c.value}] = c.write->dot();
          c.last_context[c.key] = c.write->result.context;
          contexts_seen_[c.key].push_back(c.write->result.context);
        } else {
          ++summary_.failed;
        }
        c.write.reset();
      }
    }
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

  void CheckFinalReads() {
    for (const std::string& key : keys_) {
      GetOutcome first = cluster_.Get(RandomNode(), key, net::kConsistencyAll);
      ASSERT_TRUE(first.status.ok()) << key << ": " << first.status.ToString();
      CheckRead(key, first);
      GetOutcome second = cluster_.Get(RandomNode(), key, net::kConsistencyAll);
      ASSERT_TRUE(second.status.ok()) << key << ": " << second.status.ToString();
      EXPECT_EQ(first.set, second.set) << key << ": two reads at ALL after healing differ";
      for (const std::string& v : ledger_.Violations(key, second.set ? &*second.set : nullptr)) {
        ADD_FAILURE() << "key " << key << ": " << v;
      }
      for (const std::string& id : cluster_.ReplicasOf(key)) {
        EXPECT_EQ(second.set, cluster_.Local(id, key)) << key << " on " << id << " after read repair";
      }
    }
  }

  RunSummary Summarize() {
    summary_.trace = cluster_.net().trace();
    summary_.network = cluster_.net().stats();
    for (const std::string& key : keys_) {
      for (const std::string& id : cluster_.ids()) {
        std::optional<SiblingSet> local = cluster_.Local(id, key);
        summary_.final_state += key + "@" + id + "=";
        if (local) EncodeSiblingSet(*local, &summary_.final_state);
        summary_.final_state += "\n";
      }
    }
    return summary_;
  }

  base::Random rnd_;
  SimCluster cluster_;
  std::vector<std::string> keys_;
  std::vector<Client> clients_;
  testing::WriteLedger ledger_;
  std::set<std::pair<std::string, std::string>> written_;  // (key, value) of every write attempted
  std::map<std::pair<std::string, std::string>, Dot> acknowledged_dots_;
  std::map<std::string, std::vector<std::string>> contexts_seen_;
  uint64_t next_value_ = 1;
  RunSummary summary_;
};

void PrintSummary(uint64_t round, const RunSummary& run) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(stderr,
               "  round %llu: %llu writes acknowledged, %llu failed, %llu gets; %llu calls: %llu dropped, %llu refused, "
               "%llu lost, %llu timed out, %llu late replies\n",
               u(round), u(run.acknowledged), u(run.failed), u(run.gets), u(run.network.calls), u(run.network.dropped),
               u(run.network.refused), u(run.network.lost), u(run.network.timeouts), u(run.network.late_replies));
}

TEST(CoordinatorRandomized, NoAcknowledgedWriteIsLostUnderRandomDelaysDropsPartitionsAndDownNodes) {
  const uint64_t seed = test::TestSeed("CoordinatorRandomized");
  for (uint64_t round = 0; round < 8 && !::testing::Test::HasFailure(); ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    RunSummary run = RandomRun(seed + round).Run(500);
    PrintSummary(round, run);
    // The run must have been a hard one, or it proves little.
    EXPECT_GT(run.acknowledged, 20u);
    EXPECT_GT(run.failed, 0u);
    EXPECT_GT(run.network.timeouts, 0u);
    EXPECT_GT(run.network.refused + run.network.lost, 0u);
    EXPECT_EQ(0u, run.network.duplicate_replies);
  }
}

TEST(CoordinatorRandomized, ARunReplaysExactlyFromItsSeed) {
  const uint64_t seed = test::TestSeed("CoordinatorRandomizedReplay");
  RunSummary first = RandomRun(seed).Run(150);
  RunSummary second = RandomRun(seed).Run(150);
  EXPECT_EQ(first.trace.size(), second.trace.size());
  EXPECT_TRUE(first.trace == second.trace) << "the same seed delivered messages differently";
  EXPECT_EQ(first.final_state, second.final_state);
  EXPECT_EQ(first.acknowledged, second.acknowledged);
  RunSummary other = RandomRun(seed + 1).Run(150);
  EXPECT_FALSE(first.trace == other.trace) << "another seed should run differently";
}

}  // namespace
}  // namespace kvring::repl
