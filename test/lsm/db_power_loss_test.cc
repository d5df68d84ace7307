// Power cuts at random points of random workloads, on the fault-injecting Env:
// CrashAfterOps kills the "machine" after a random number of file operations
// (which may fall inside a WAL append, a flush, a compaction or a manifest
// write), SimulatePowerLoss drops every unsynced byte and directory change, and
// the DB must open with every acknowledged write (sync=always) and nothing that
// was never written, and with a Merkle index equal to a computation from
// scratch over what it recovered.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/fault_env.h"
#include "base/random.h"
#include "lsm/engine.h"
#include "lsm/merkle_index.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

// What a key may hold after a crash: its last acknowledged value (or absence),
// or any value written after that without an acknowledgement.
struct KeyState {
  std::string acked;  // "" = absent
  std::set<std::string> maybe;
};

class PowerLossTest : public ::testing::Test {
 protected:
  void RunCuts(int cuts, int writer_threads) {
    const uint64_t seed = kvring::test::TestSeed(::testing::UnitTest::GetInstance()->current_test_info()->name());
    base::Random rnd(seed);
    base::FaultEnv::Options env_options;
    env_options.seed = seed;
    env_options.keep_random_unsynced_prefix = true;
    base::FaultEnv env(env_options);
    Options options = test::SmallOptions(&env);
    options.sync_mode = SyncMode::kAlways;
    options.memtable_bytes = 16 << 10;
    options.target_file_bytes = 16 << 10;
    options.max_bytes_level1 = 48 << 10;
    options.l0_compaction_trigger = 2;
    options.merkle.leaf_bits = 8;
    // Keys are "N-tT": a split point per N spreads them over many leaves.
    std::vector<uint64_t> splits;
    for (int n = 0; n < 400; n += 3) splits.push_back(MerkleIndex::KeyPrefix(std::to_string(n) + "-t"));
    std::map<std::string, KeyState> state;
    std::mutex state_mu;
    int flushes_seen = 0, compactions_seen = 0;
    int opens_with_clean_leaves = 0;  // the persisted index was used, not rebuilt

    for (int cut = 0; cut < cuts; cut++) {
      SCOPED_TRACE("cut " + std::to_string(cut) + " seed " + std::to_string(seed));
      std::unique_ptr<DB> db;
      base::Status s = DB::Open(options, "/db", &db);
      ASSERT_TRUE(s.ok()) << s.ToString();
      // Every key holds an allowed value; what we see is now durable (recovery
      // wrote it to a synced table), so it becomes the acknowledged state.
      auto contents = test::Dump(db.get());
      ASSERT_EQ(0u, contents.count("<error>")) << contents["<error>"];
      const Stats opened = db->GetStats();
      if (opened.merkle_dirty_leaves < opened.merkle_leaves) opens_with_clean_leaves++;
      ASSERT_EQ("", test::CheckMerkleLeaves(db.get(), contents));
      ASSERT_TRUE(db->SetMerkleSplits(splits).ok());
      for (auto& [key, ks] : state) {
        auto it = contents.find(key);
        std::string got = it == contents.end() ? "" : it->second;
        ASSERT_TRUE(got == ks.acked || ks.maybe.count(got) != 0)
            << key << " holds '" << got << "', acknowledged '" << ks.acked << "'";
        ks.acked = got;
        ks.maybe.clear();
        if (it != contents.end()) contents.erase(it);
      }
      ASSERT_TRUE(contents.empty()) << "never-written key " << contents.begin()->first;

      env.CrashAfterOps(rnd.Range(1, 1500));
      std::vector<std::thread> threads;
      for (int t = 0; t < writer_threads; t++) {
        threads.emplace_back([&, t, thread_seed = rnd.Next64()] {
          base::Random r(thread_seed);
          for (int i = 0; i < 2000; i++) {
            // One writer per key, so "the last acknowledged value" is well defined.
            const std::string key = std::to_string(r.Uniform(400)) + "-t" + std::to_string(t);
            const bool del = r.OneIn(5);
            const std::string value =
                del ? "" : key + "@" + std::to_string(cut) + "." + std::to_string(t) + "." + std::to_string(i) +
                               std::string(r.Uniform(200), 'v');
            {
              std::lock_guard<std::mutex> l(state_mu);
              state[key].maybe.insert(value);
            }
            base::Status ws = del ? db->Delete(WriteOptions(), key) : db->Put(WriteOptions(), key, value);
            if (!ws.ok()) break;  // the machine died
            std::lock_guard<std::mutex> l(state_mu);
            // Acknowledged: any later crash must keep this or a newer write.
            KeyState& ks = state[key];
            ks.acked = value;
            ks.maybe.erase(value);
            if (t == 0 && r.OneIn(50)) {
              // Leaves recomputed amid the writes, then persisted by flushes.
              std::vector<MerkleLeaf> leaves;
              db->MerkleLeaves(0, 0, &leaves).IgnoreError();
            }
            if (t == 0 && r.OneIn(300)) {
              // A flush or a compaction request in the middle of the writes.
              if (r.OneIn(2)) db->Flush().IgnoreError(); else db->CompactRange(nullptr, nullptr).IgnoreError();
            }
          }
        });
      }
      for (auto& t : threads) t.join();
      Stats stats = db->GetStats();
      flushes_seen += static_cast<int>(stats.flushes);
      compactions_seen += static_cast<int>(stats.compactions);
      db.reset();  // with the machine dead, closing writes nothing durable
      env.SimulatePowerLoss();
    }
    // The cuts landed while background work was happening too.
    EXPECT_GT(flushes_seen, 0);
    EXPECT_GT(compactions_seen, 0);
    EXPECT_GT(opens_with_clean_leaves, cuts / 10);
  }
};

TEST_F(PowerLossTest, AcknowledgedWritesSurviveRandomPowerCuts) { RunCuts(200 * test::TestScale(), 1); }

TEST_F(PowerLossTest, AcknowledgedGroupCommitsSurviveRandomPowerCuts) { RunCuts(60 * test::TestScale(), 3); }

}  // namespace
}  // namespace kvring::lsm
