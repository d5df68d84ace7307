// repl/hint_record and repl/hint_store: the bytes of a hint record
// (docs/formats/hints.md), one record per (owner, key) with a seq that protects a
// replay from a newer miss, bounds that drop hints with a counter and keep the
// accounting exact, the window, power loss under --sync always, threads, and
// damaged records.
#include "repl/hint_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "base/fault_env.h"
#include "base/random.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using base::Status;

// docs/formats/hints.md, worked example: owner n2 missed key k7 first at
// 1700000000.000000 s and last at 1700000060.000000 s; a replay sends 142 bytes; seq 3.
const std::string kExampleKey("n2\x00k7", 5);
const std::string kExampleValue(
    "\x01"
    "\x00\x40\x1e\x18\x24\x0a\x06\x00"
    "\x00\xc7\xb1\x1b\x24\x0a\x06\x00"
    "\x8e\x01"
    "\x03",
    20);
const HintRecord kExampleRecord{1'700'000'000'000'000ull, 1'700'000'060'000'000ull, 142, 3};

constexpr uint64_t kSecond = 1'000'000;
constexpr uint64_t kMinute = 60 * kSecond;


struct AddResult {
  Status status;
  AddOutcome outcome = AddOutcome::kFailed;
};
struct RemoveResult {
  Status status;
  RemoveOutcome outcome = RemoveOutcome::kFailed;
};

AddResult AddAndWait(HintStore* store, testing::QueueExecutor* ex, std::string_view owner, std::string_view key,
                     uint64_t bytes) {
  bool done = false;
  AddResult result;
  store->Add(ex, owner, key, bytes, [&](Status s, AddOutcome o) {
    result = {s, o};
    done = true;
  });
  EXPECT_TRUE(ex->RunUntil([&] { return done; })) << "Add never completed";
  return result;
}

RemoveResult RemoveAndWait(HintStore* store, testing::QueueExecutor* ex, const Hint& hint) {
  bool done = false;
  RemoveResult result;
  store->Remove(ex, hint, [&](Status s, RemoveOutcome o) {
    result = {s, o};
    done = true;
  });
  EXPECT_TRUE(ex->RunUntil([&] { return done; })) << "Remove never completed";
  return result;
}

// What accounting must say about an owner: derived from its listed hints.
struct Pending {
  uint64_t count = 0, bytes = 0, oldest_first_us = 0;
  friend bool operator==(const Pending&, const Pending&) = default;
};
std::ostream& operator<<(std::ostream& os, const Pending& p) {
  return os << "{count " << p.count << ", bytes " << p.bytes << ", oldest " << p.oldest_first_us << "}";
}
Pending PendingOf(const HintStats& s) { return {s.pending, s.pending_bytes, s.oldest_first_us}; }
Pending PendingOf(const std::vector<Hint>& hints) {
  Pending p;
  for (const Hint& h : hints) {
    p.count++;
    p.bytes += h.bytes;
    const uint64_t floored = h.first_us / kSecond * kSecond;
    if (p.oldest_first_us == 0 || floored < p.oldest_first_us) p.oldest_first_us = floored;
  }
  return p;
}

// ---------------------------------------------------------------- format

TEST(HintStoreFormat, WorkedExampleEncodesToTheDocumentedBytesAndBack) {
  EXPECT_EQ(kExampleKey, HintKey("n2", "k7"));
  std::string value;
  EncodeHintRecord(kExampleRecord, &value);
  EXPECT_EQ(kExampleValue, value);
  auto back = DecodeHintRecord(kExampleValue);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(kExampleRecord, *back);
  std::string_view owner, key;
  ASSERT_TRUE(SplitHintKey(kExampleKey, &owner, &key));
  EXPECT_EQ("n2", owner);
  EXPECT_EQ("k7", key);
}

TEST(HintStoreFormat, TheSmallestRecordIsNineteenBytes) {
  std::string value;
  EncodeHintRecord(HintRecord{0, 0, 0, 1}, &value);
  EXPECT_EQ(kHintRecordMinBytes, value.size());
}

TEST(HintStoreFormat, DamageIsCorruptionNamingWhatIsWrongAndANewerVersionIsNotSupported) {
  auto message = [](std::string_view bytes) { return DecodeHintRecord(bytes).status().ToString(); };
  EXPECT_EQ("Corruption: hint record: empty value", message(""));
  EXPECT_EQ("Corruption: hint record: truncated (17 bytes)", message(kExampleValue.substr(0, 17)));
  EXPECT_EQ("Corruption: hint record: 1 trailing bytes", message(kExampleValue + "x"));
  std::string v0 = kExampleValue;
  v0[0] = 0;  // offset 0: version
  EXPECT_EQ("Corruption: hint record: bad format version 0", message(v0));
  std::string seq0 = kExampleValue;
  seq0[19] = 0;  // offset 19: seq
  EXPECT_EQ("Corruption: hint record: seq 0", message(seq0));
  std::string backwards = kExampleValue;
  backwards[15] = 0x05;  // offset 9..16: last_us, now before first_us
  EXPECT_EQ("Corruption: hint record: first_us after last_us", message(backwards));
  std::string v2 = kExampleValue;
  v2[0] = 2;
  EXPECT_EQ("NotSupported: hint record: format version 2 is newer than this node reads (1)", message(v2));
}

TEST(HintStoreFormat, DecodingRandomBytesNeverCrashes) {
  const uint64_t seed = test::TestSeed("HintStoreFormat.DecodingRandomBytesNeverCrashes");
  base::Random rnd(seed);
  for (int i = 0; i < 20000; i++) {
    std::string bytes = kExampleValue.substr(0, rnd.Uniform(kExampleValue.size() + 1));
    for (uint64_t flips = rnd.Uniform(4); flips > 0 && !bytes.empty(); flips--) {
      bytes[rnd.Uniform(bytes.size())] = static_cast<char>(rnd.Next32());
    }
    auto r = DecodeHintRecord(bytes);
    if (r.ok()) {
      EXPECT_LE(r->first_us, r->last_us);
      EXPECT_GE(r->seq, 1u);
    }
  }
}

TEST(HintStoreFormat, AnOwnerIdMustBeNonEmptyAndFreeOfZeroBytes) {
  EXPECT_TRUE(ValidateHintOwner("127.0.0.1:7000").ok());
  EXPECT_TRUE(ValidateHintOwner("").IsInvalidArgument());
  const Status s = ValidateHintOwner(std::string("n\x00" "1", 3));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("0x00"), std::string::npos) << s.ToString();
  std::string_view owner, key;
  EXPECT_FALSE(SplitHintKey(std::string("\x00k", 2), &owner, &key));
  EXPECT_FALSE(SplitHintKey("n1", &owner, &key));
}

// ---------------------------------------------------------------- the store

class HintStoreTest : public ::testing::Test {
 protected:
  HintStoreTest() : io_(2) {
    options_.dir = "/data/hints";
    options_.sync_mode = lsm::SyncMode::kAlways;
  }
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/data").ok());
    Open();
  }
  void TearDown() override { Close(); }

  void Open() {
    auto opened = HintStore::Open(options_, &env_, &clock_, &io_, base::Logger::Null());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void Close() {
    store_.reset();
    ex_.RunQueued();  // callbacks the close resolved
  }
  void Reopen() {
    Close();
    Open();
  }

  AddResult Add(std::string_view owner, std::string_view key, uint64_t bytes) {
    return AddAndWait(store_.get(), &ex_, owner, key, bytes);
  }
  void MustStore(std::string_view owner, std::string_view key, uint64_t bytes) {
    AddResult r = Add(owner, key, bytes);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(AddOutcome::kStored, r.outcome) << AddOutcomeName(r.outcome);
  }
  RemoveResult Remove(const Hint& hint) { return RemoveAndWait(store_.get(), &ex_, hint); }

  std::vector<Hint> List(std::string_view owner, std::string_view after = "", size_t limit = 1'000'000,
                         std::vector<Status>* damaged = nullptr) {
    std::vector<Hint> out;
    Status s = store_->List(owner, after, limit, &out, damaged);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  std::string Keys(const std::vector<Hint>& hints) {
    std::string out;
    for (const Hint& h : hints) out += (out.empty() ? "" : ",") + h.key;
    return out;
  }
  uint64_t Wall() const { return clock_.WallMicros(); }

  // Every owner's accounting equals what its listing shows (List drops nothing
  // here: the clock has not passed the window).
  void ExpectAccountingMatchesListing() {
    uint64_t total_bytes = 0, total = 0;
    for (const std::string& owner : store_->Owners()) {
      const std::vector<Hint> hints = List(owner);
      EXPECT_EQ(PendingOf(hints), PendingOf(store_->Stats(owner))) << "owner " << owner;
      total += hints.size();
      for (const Hint& h : hints) total_bytes += h.bytes;
    }
    const HintTotals totals = store_->Totals();
    EXPECT_EQ(total, totals.pending);
    EXPECT_EQ(total_bytes, totals.pending_bytes);
  }
  std::map<std::string, Pending> AccountingByOwner() {
    std::map<std::string, Pending> out;
    for (const std::string& owner : store_->Owners()) out[owner] = PendingOf(store_->Stats(owner));
    return out;
  }

  base::FaultEnv env_;
  base::ManualClock clock_;
  base::ThreadPool io_;
  testing::QueueExecutor ex_;
  HintStoreOptions options_;
  std::unique_ptr<HintStore> store_;
};

TEST_F(HintStoreTest, ListGivesAnOwnersHintsInKeyOrderPagedStrictlyAfterAKey) {
  for (const char* key : {"c", "a", "e", "b", "d"}) MustStore("n1", key, 10);
  MustStore("n2", "a", 10);
  MustStore("n10", "a", 10);  // "n1" is a prefix of its id, not of its keys
  const std::string binary("x\x00y", 3);
  MustStore("n2", binary, 10);

  EXPECT_EQ("a,b,c,d,e", Keys(List("n1")));
  EXPECT_EQ("a,b", Keys(List("n1", "", 2)));
  EXPECT_EQ("c,d", Keys(List("n1", "b", 2)));
  EXPECT_EQ("e", Keys(List("n1", "d", 2)));
  EXPECT_EQ("", Keys(List("n1", "e", 2)));
  EXPECT_EQ("c,d,e", Keys(List("n1", "bb")));  // after_key need not be a listed key
  const std::vector<Hint> n2 = List("n2");
  ASSERT_EQ(2u, n2.size());
  EXPECT_EQ("a", n2[0].key);
  EXPECT_EQ(binary, n2[1].key);
  EXPECT_EQ("n2", n2[1].owner);
  EXPECT_EQ("a", Keys(List("n10")));
  EXPECT_EQ("", Keys(List("n3")));
  EXPECT_EQ((std::vector<std::string>{"n1", "n10", "n2"}), store_->Owners());
  EXPECT_EQ(5u, store_->Stats("n1").pending);
  EXPECT_EQ(50u, store_->Stats("n1").pending_bytes);
  EXPECT_EQ(8u, store_->Totals().pending);
  EXPECT_EQ(3u, store_->Totals().owners);
}

TEST_F(HintStoreTest, RepeatedAddsMakeOneRecordWithARaisedSeqAndTheFirstMissKept) {
  const uint64_t t0 = Wall();
  MustStore("n1", "k", 10);
  const std::vector<Hint> first = List("n1");
  ASSERT_EQ(1u, first.size());
  EXPECT_EQ(t0, first[0].first_us);
  EXPECT_EQ(t0, first[0].last_us);
  clock_.Advance(5 * kSecond);
  MustStore("n1", "k", 30);
  clock_.Advance(5 * kSecond);
  MustStore("n1", "k", 20);
  const std::vector<Hint> hints = List("n1");
  ASSERT_EQ(1u, hints.size());
  EXPECT_EQ(t0, hints[0].first_us);
  EXPECT_EQ(t0 + 10 * kSecond, hints[0].last_us);
  EXPECT_EQ(20u, hints[0].bytes);
  EXPECT_GT(hints[0].seq, first[0].seq + 1);  // raised by each of the two Adds
  EXPECT_EQ((Pending{1, 20, t0 / kSecond * kSecond}), PendingOf(store_->Stats("n1")));
  EXPECT_EQ(3u, store_->Totals().adds);
}

TEST_F(HintStoreTest, RemoveWithAStaleSeqKeepsTheRecordAndWithTheCurrentSeqDeletesIt) {
  MustStore("n1", "k", 10);
  MustStore("n1", "other", 5);
  const Hint listed = List("n1", "", 1).at(0);
  MustStore("n1", "k", 12);  // the owner missed a newer write after the listing

  RemoveResult stale = Remove(listed);
  ASSERT_TRUE(stale.status.ok()) << stale.status.ToString();
  EXPECT_EQ(RemoveOutcome::kKeptNewer, stale.outcome) << RemoveOutcomeName(stale.outcome);
  const Hint current = List("n1", "", 1).at(0);
  EXPECT_EQ("k", current.key);
  EXPECT_EQ(0u, store_->Stats("n1").replayed);

  RemoveResult removed = Remove(current);
  ASSERT_TRUE(removed.status.ok()) << removed.status.ToString();
  EXPECT_EQ(RemoveOutcome::kRemoved, removed.outcome) << RemoveOutcomeName(removed.outcome);
  EXPECT_EQ("other", Keys(List("n1")));
  const HintStats stats = store_->Stats("n1");
  EXPECT_EQ(1u, stats.replayed);
  EXPECT_EQ(1u, stats.pending);
  EXPECT_EQ(5u, stats.pending_bytes);
  EXPECT_EQ(RemoveOutcome::kAbsent, Remove(current).outcome);  // a second time: nothing left

  Remove(List("n1").at(0));
  EXPECT_TRUE(store_->Owners().empty());
  EXPECT_EQ(2u, store_->Totals().replayed);
  Reopen();
  EXPECT_TRUE(List("n1").empty());
}

TEST_F(HintStoreTest, ARecordRemovedAndAddedAgainNeverReusesASeq) {
  MustStore("n1", "k", 10);
  const Hint first = List("n1").at(0);
  ASSERT_EQ(RemoveOutcome::kRemoved, Remove(first).outcome);
  MustStore("n1", "k", 10);
  EXPECT_EQ(RemoveOutcome::kKeptNewer, Remove(first).outcome);  // a replayer's stale copy
  Reopen();  // the counter starts above every stored seq
  MustStore("n1", "j", 10);
  const std::vector<Hint> hints = List("n1");
  ASSERT_EQ(2u, hints.size());
  EXPECT_GT(hints[0].seq, hints[1].seq);  // j, added after the reopen, after k
}

TEST_F(HintStoreTest, BoundsDropHintsWithTheirCounterWhileOtherOwnersStillStore) {
  options_.max_bytes_per_owner = 100;
  options_.max_bytes_total = 250;
  Reopen();
  MustStore("n1", "a", 60);
  EXPECT_EQ(AddOutcome::kDroppedOverOwnerBound, Add("n1", "b", 50).outcome);
  MustStore("n1", "c", 40);  // exactly at the bound
  MustStore("n2", "a", 100);
  AddResult over_total = Add("n3", "a", 60);  // 260 > 250
  EXPECT_TRUE(over_total.status.ok()) << "a full hint store never fails the write";
  EXPECT_EQ(AddOutcome::kDroppedOverTotalBound, over_total.outcome);
  MustStore("n3", "b", 50);  // 250

  EXPECT_EQ("a,c", Keys(List("n1")));
  EXPECT_EQ("b", Keys(List("n3")));
  HintStats n1 = store_->Stats("n1");
  EXPECT_EQ((Pending{2, 100, n1.oldest_first_us}), PendingOf(n1));
  EXPECT_EQ(1u, n1.dropped_over_owner_bound);
  EXPECT_EQ(0u, n1.dropped_over_total_bound);
  EXPECT_EQ(1u, store_->Stats("n3").dropped_over_total_bound);
  HintTotals totals = store_->Totals();
  EXPECT_EQ(250u, totals.pending_bytes);
  EXPECT_EQ(4u, totals.pending);
  EXPECT_EQ(2u, totals.dropped_over_owner_bound + totals.dropped_over_total_bound);
  ExpectAccountingMatchesListing();

  // A replay frees room: the next hint fits again, and the books stay exact.
  ASSERT_EQ(RemoveOutcome::kRemoved, Remove(List("n1").at(0)).outcome);  // n1/a, 60 bytes
  EXPECT_EQ(AddOutcome::kDroppedOverOwnerBound, Add("n1", "d", 61).outcome);
  MustStore("n1", "d", 60);  // n1 back at 100, everything at 250
  EXPECT_EQ(AddOutcome::kDroppedOverTotalBound, Add("n4", "a", 1).outcome);
  ASSERT_EQ(RemoveOutcome::kRemoved, Remove(List("n2").at(0)).outcome);  // 100 bytes
  MustStore("n4", "a", 100);
  EXPECT_EQ(2u, store_->Stats("n1").dropped_over_owner_bound);
  EXPECT_EQ(1u, store_->Stats("n4").dropped_over_total_bound);
  EXPECT_EQ(250u, store_->Totals().pending_bytes);
  EXPECT_EQ(4u, store_->Totals().pending);
  ExpectAccountingMatchesListing();

  const auto before = AccountingByOwner();
  Reopen();
  EXPECT_EQ(before, AccountingByOwner());
  EXPECT_EQ(250u, store_->Totals().pending_bytes);
  EXPECT_EQ(AddOutcome::kDroppedOverTotalBound, Add("n5", "a", 1).outcome);
}

TEST_F(HintStoreTest, AGrowingRecordKeepsItsOldEstimateRatherThanPassAnOwnersBound) {
  options_.max_bytes_per_owner = 100;
  Reopen();
  MustStore("n1", "a", 60);
  MustStore("n1", "b", 30);
  const Hint before = List("n1", "", 1).at(0);
  MustStore("n1", "a", 80);  // 110 > 100: the record stays, its seq rises, its estimate does not
  const Hint after = List("n1", "", 1).at(0);
  EXPECT_EQ(60u, after.bytes);
  EXPECT_GT(after.seq, before.seq);
  EXPECT_EQ(1u, store_->Stats("n1").estimates_kept);
  EXPECT_EQ(90u, store_->Stats("n1").pending_bytes);
  MustStore("n1", "a", 70);  // 100: fits
  EXPECT_EQ(70u, List("n1", "", 1).at(0).bytes);
  MustStore("n1", "a", 5);  // shrinking always fits
  EXPECT_EQ(35u, store_->Stats("n1").pending_bytes);
  ExpectAccountingMatchesListing();
}

TEST_F(HintStoreTest, TheWindowDropsOldHintsInListAndExpire) {
  options_.window_micros = 60 * kMinute;
  Reopen();
  MustStore("n1", "a", 10);
  MustStore("n1", "b", 10);
  MustStore("n2", "x", 10);
  clock_.Advance(30 * kMinute);
  MustStore("n1", "c", 10);
  MustStore("n1", "a", 10);  // a newer miss keeps the first one's time: a stays old
  clock_.Advance(31 * kMinute);

  EXPECT_EQ("c", Keys(List("n1")));
  HintStats n1 = store_->Stats("n1");
  EXPECT_EQ(2u, n1.dropped_window);
  EXPECT_EQ((Pending{1, 10, n1.oldest_first_us}), PendingOf(n1));
  EXPECT_EQ(1u, store_->Stats("n2").pending);  // not met yet

  ASSERT_TRUE(store_->Expire().ok());
  EXPECT_EQ(0u, store_->Stats("n2").pending);
  EXPECT_EQ(1u, store_->Stats("n2").dropped_window);
  EXPECT_EQ((std::vector<std::string>{"n1"}), store_->Owners());
  EXPECT_EQ(3u, store_->Totals().dropped_window);

  // An Add that meets an expired record drops it and starts a new hint.
  clock_.Advance(61 * kMinute);
  MustStore("n1", "c", 7);
  const std::vector<Hint> hints = List("n1");
  ASSERT_EQ(1u, hints.size());
  EXPECT_EQ(Wall(), hints[0].first_us);
  EXPECT_EQ(3u, store_->Stats("n1").dropped_window);
  ExpectAccountingMatchesListing();
  Reopen();
  EXPECT_EQ("c", Keys(List("n1")));
  EXPECT_TRUE(List("n2").empty());
}

TEST_F(HintStoreTest, ExpireLeavesHintsInsideTheWindowAlone) {
  options_.window_micros = 60 * kMinute;
  Reopen();
  MustStore("n1", "a", 10);
  clock_.Advance(60 * kMinute);  // exactly the window: not older than it
  ASSERT_TRUE(store_->Expire().ok());
  EXPECT_EQ(1u, store_->Stats("n1").pending);
  EXPECT_EQ(60 * kMinute, store_->Stats("n1").oldest_age_micros);
  EXPECT_EQ("a", Keys(List("n1")));
}

TEST_F(HintStoreTest, OpenRefusesAZeroWindow) {
  HintStoreOptions options = options_;
  options.dir = "/data/other";
  options.window_micros = 0;
  auto opened = HintStore::Open(options, &env_, &clock_, &io_, base::Logger::Null());
  EXPECT_TRUE(opened.status().IsInvalidArgument()) << opened.status().ToString();
}

TEST_F(HintStoreTest, AnInvalidOwnerIsRejectedAndNothingIsStored) {
  AddResult r = Add(std::string("n\x00" "1", 3), "k", 10);
  EXPECT_TRUE(r.status.IsInvalidArgument()) << r.status.ToString();
  EXPECT_EQ(AddOutcome::kFailed, r.outcome);
  EXPECT_TRUE(Add("", "k", 10).status.IsInvalidArgument());
  std::vector<Hint> out;
  EXPECT_TRUE(store_->List("", "", 10, &out).IsInvalidArgument());
  EXPECT_TRUE(store_->Owners().empty());
  EXPECT_EQ(0u, store_->Totals().pending);
}

TEST_F(HintStoreTest, ReadsThatNeedTheDiskRunOnTheIOPool) {
  options_.block_cache_bytes = 0;  // every table read needs I/O
  Reopen();
  for (int i = 0; i < 20; i++) MustStore("n1", "k" + std::to_string(i), 10);
  ASSERT_TRUE(store_->Flush().ok());
  const Hint listed = List("n1", "", 1).at(0);
  // (An attempt may also move to the pool when the stripe is still held by the
  // pool thread that finished the previous step: counts are lower bounds.)
  MustStore("n1", "k0", 11);  // the old record is in a table
  EXPECT_GE(store_->Totals().offloaded, 1u);
  EXPECT_EQ(RemoveOutcome::kKeptNewer, Remove(listed).outcome);
  ASSERT_TRUE(store_->Flush().ok());
  const uint64_t before = store_->Totals().offloaded;
  EXPECT_EQ(RemoveOutcome::kRemoved, Remove(List("n1", "", 1).at(0)).outcome);
  EXPECT_EQ(before + 1, store_->Totals().offloaded);
  EXPECT_EQ(19u, store_->Stats("n1").pending);
  ExpectAccountingMatchesListing();
}

TEST_F(HintStoreTest, WithManualWalFlushAnAddCompletesAtFlushWal) {
  options_.sync_mode = lsm::SyncMode::kNone;
  options_.manual_wal_flush = true;
  Reopen();
  bool done = false;
  store_->Add(&ex_, "n1", "k", 10, [&](Status s, AddOutcome o) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(AddOutcome::kStored, o);
    done = true;
  });
  ex_.RunQueued();
  EXPECT_FALSE(done) << "the record is still in the WAL buffer";
  EXPECT_EQ("k", Keys(List("n1")));  // applied, so listed
  ASSERT_TRUE(store_->FlushWal().ok());
  EXPECT_TRUE(ex_.RunUntil([&] { return done; }));
}

TEST_F(HintStoreTest, ReopeningRebuildsExactlyTheSameAccounting) {
  base::Random rnd(7);
  for (int i = 0; i < 300; i++) {
    MustStore("n" + std::to_string(rnd.Uniform(4)), "k" + std::to_string(rnd.Uniform(60)), rnd.Range(1, 1000));
    if (rnd.OneIn(50)) clock_.Advance(rnd.Uniform(100 * kSecond));
  }
  for (int i = 0; i < 20; i++) {
    const std::vector<Hint> hints = List("n" + std::to_string(rnd.Uniform(4)), "", 1);
    if (!hints.empty()) Remove(hints[0]);
  }
  ExpectAccountingMatchesListing();
  const auto before = AccountingByOwner();
  ASSERT_EQ(4u, before.size());
  Reopen();
  EXPECT_EQ(before, AccountingByOwner());
  ASSERT_TRUE(store_->Flush().ok());
  Reopen();  // from a table this time, not the WAL
  EXPECT_EQ(before, AccountingByOwner());
}

// What a key's record may hold after a power cut: the bytes of its last
// acknowledged Add, or of any Add after it.
struct KeyHistory {
  std::optional<uint64_t> acked;
  std::set<uint64_t> maybe;
};

TEST_F(HintStoreTest, HintsAcknowledgedUnderSyncAlwaysSurvivePowerLoss) {
  const uint64_t seed = test::TestSeed("HintStoreTest.HintsAcknowledgedUnderSyncAlwaysSurvivePowerLoss");
  base::Random rnd(seed);
  std::map<std::pair<std::string, std::string>, KeyHistory> history;
  int acked_in_flight = 0, failed_in_flight = 0;
  auto random_pair = [&] {
    return std::make_pair("n" + std::to_string(rnd.Uniform(3)), "k" + std::to_string(rnd.Uniform(80)));
  };
  for (int round = 0; round < 8; round++) {
    SCOPED_TRACE("round " + std::to_string(round) + " seed " + std::to_string(seed));
    // Acknowledged Adds only: a power cut keeps all of them, and the reopened
    // store rebuilds exactly the books it kept.
    for (int i = 0; i < 40; i++) {
      auto pair = random_pair();
      const uint64_t bytes = rnd.Range(1, 500);
      MustStore(pair.first, pair.second, bytes);
      history[pair] = KeyHistory{bytes, {}};
    }
    const auto before = AccountingByOwner();
    Close();
    env_.SimulatePowerLoss();
    Open();
    ASSERT_EQ(before, AccountingByOwner());

    // Adds in flight when the machine dies after a random number of file operations.
    env_.CrashAfterOps(rnd.Range(1, 100));
    int outstanding = 0;
    for (int i = 0; i < 60; i++) {
      auto pair = random_pair();
      const uint64_t bytes = rnd.Range(1, 500);
      history[pair].maybe.insert(bytes);
      outstanding++;
      store_->Add(&ex_, pair.first, pair.second, bytes, [&, pair, bytes](Status s, AddOutcome o) {
        outstanding--;
        (s.ok() ? acked_in_flight : failed_in_flight)++;
        if (!s.ok()) return;
        ASSERT_EQ(AddOutcome::kStored, o);
        history[pair] = KeyHistory{bytes, {}};  // durable: a later cut must keep it (or a newer Add)
      });
      // Now and then the writer waits for its Adds, so the cut may fall after
      // some of them were synced and before others.
      if (rnd.OneIn(4)) {
        ASSERT_TRUE(ex_.RunUntil([&] { return outstanding == 0; }));
      }
    }
    Close();  // resolves the Adds still waiting for their fdatasync
    ASSERT_TRUE(ex_.RunUntil([&] { return outstanding == 0; }));
    env_.SimulatePowerLoss();
    Open();

    for (auto& [pair, h] : history) {
      const std::vector<Hint> hints = List(pair.first, "", 1'000'000);
      auto it = std::find_if(hints.begin(), hints.end(), [&](const Hint& x) { return x.key == pair.second; });
      if (it == hints.end()) {
        ASSERT_FALSE(h.acked.has_value()) << pair.first << "/" << pair.second << " acknowledged, then lost";
        continue;
      }
      ASSERT_TRUE(it->bytes == h.acked || h.maybe.count(it->bytes) != 0)
          << pair.first << "/" << pair.second << " holds " << it->bytes;
      h = KeyHistory{it->bytes, {}};  // what survived is durable now
    }
    ExpectAccountingMatchesListing();
    clock_.Advance(rnd.Uniform(10 * kSecond));
  }
  // The cuts fell among the Adds, not before or after all of them.
  EXPECT_GT(acked_in_flight, 0);
  EXPECT_GT(failed_in_flight, 0);
}

TEST_F(HintStoreTest, ConcurrentAddsAndRemovesEndWithOneRecordPerKeyAndExactAccounting) {
  const uint64_t seed = test::TestSeed("HintStoreTest.ConcurrentAddsAndRemovesEndWithOneRecordPerKeyAndExactAccounting");
  options_.sync_mode = lsm::SyncMode::kNone;
  options_.memtable_bytes = 16 << 10;  // tables, so some reads go to the I/O pool
  options_.block_cache_bytes = 16 << 10;
  Reopen();
  constexpr int kAdders = 4, kAddsEach = 400;
  std::atomic<int> adders_running{kAdders};
  std::atomic<uint64_t> removed{0};
  std::atomic<bool> replayer_started{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kAdders; t++) {
    threads.emplace_back([&, t, thread_seed = seed + static_cast<uint64_t>(t)] {
      base::Random r(thread_seed);
      testing::QueueExecutor ex;
      int outstanding = 0;
      while (!replayer_started) std::this_thread::yield();
      for (int i = 0; i < kAddsEach; i++) {
        outstanding++;
        store_->Add(&ex, "n" + std::to_string(r.Uniform(3)), "k" + std::to_string(r.Uniform(30)), r.Range(1, 100),
                    [&](Status s, AddOutcome o) {
                      EXPECT_TRUE(s.ok()) << s.ToString();
                      EXPECT_EQ(AddOutcome::kStored, o);
                      outstanding--;
                    });
        if (r.OneIn(8)) ex.RunQueued();
        if (t == 0 && i % 100 == 50) {
          EXPECT_TRUE(store_->Flush().ok());
        }
      }
      EXPECT_TRUE(ex.RunUntil([&] { return outstanding == 0; }));
      adders_running--;
    });
  }
  threads.emplace_back([&] {  // a replayer racing the adders
    testing::QueueExecutor ex;
    replayer_started = true;
    for (int owner = 0; adders_running > 0; owner = (owner + 1) % 3) {
      std::vector<Hint> hints;
      EXPECT_TRUE(store_->List("n" + std::to_string(owner), "", 5, &hints).ok());
      for (const Hint& h : hints) {
        if (RemoveAndWait(store_.get(), &ex, h).outcome == RemoveOutcome::kRemoved) removed++;
      }
    }
  });
  for (auto& t : threads) t.join();

  std::set<uint64_t> seqs;
  uint64_t records = 0;
  for (int owner = 0; owner < 3; owner++) {
    const std::vector<Hint> hints = List("n" + std::to_string(owner));
    std::set<std::string> keys;
    for (const Hint& h : hints) {
      EXPECT_TRUE(keys.insert(h.key).second) << "two records for " << h.key;
      EXPECT_TRUE(seqs.insert(h.seq).second) << "seq " << h.seq << " twice";
    }
    records += hints.size();
  }
  EXPECT_GT(records, 0u);
  const HintTotals totals = store_->Totals();
  EXPECT_EQ(records, totals.pending);
  EXPECT_EQ(removed.load(), totals.replayed);
  EXPECT_EQ(static_cast<uint64_t>(kAdders * kAddsEach), totals.adds);
  EXPECT_GT(totals.offloaded, 0u);
  ExpectAccountingMatchesListing();
  const auto before = AccountingByOwner();
  Reopen();
  EXPECT_EQ(before, AccountingByOwner());
}

// Writes a record's value straight into the hint engine, bypassing the store.
void PutRaw(base::Env* env, const std::string& dir, const std::string& engine_key, const std::string& value) {
  lsm::Options options;
  options.env = env;
  std::unique_ptr<lsm::DB> db;
  ASSERT_TRUE(lsm::DB::Open(options, dir, &db).ok());
  ASSERT_TRUE(db->Put(lsm::WriteOptions(), engine_key, value).ok());
}

TEST_F(HintStoreTest, DamagedRecordsAreReportedAndSkippedAndExpireDropsThem) {
  for (const char* key : {"a", "b", "c", "d"}) MustStore("n1", key, 10);
  Close();
  std::string record;
  EncodeHintRecord(HintRecord{Wall(), Wall(), 10, 99}, &record);
  PutRaw(&env_, options_.dir, HintKey("n1", "b"), record.substr(0, 17));  // cut inside `bytes` (offset 17)
  std::string newer = record;
  newer[0] = 2;  // offset 0: a version from a newer node
  PutRaw(&env_, options_.dir, HintKey("n1", "d"), newer);
  PutRaw(&env_, options_.dir, "no-owner", record);  // a key without the 0x00 terminator
  Open();

  EXPECT_EQ(3u, store_->Totals().damaged_seen);
  EXPECT_EQ(2u, store_->Stats("n1").pending) << "damaged records are not accounted";
  std::vector<Status> damaged;
  EXPECT_EQ("a,c", Keys(List("n1", "", 10, &damaged)));
  ASSERT_EQ(2u, damaged.size());
  EXPECT_EQ("Corruption: hint record of owner 'n1', key 'b': truncated (17 bytes)", damaged[0].ToString());
  EXPECT_EQ("NotSupported: hint record of owner 'n1', key 'd': format version 2 is newer than this node reads (1)",
            damaged[1].ToString());
  RemoveResult r = Remove(Hint{"n1", "b", 0, 0, 10, 99});
  EXPECT_TRUE(r.status.IsCorruption()) << r.status.ToString();

  ASSERT_TRUE(store_->Expire().ok());
  EXPECT_EQ(2u, store_->Totals().dropped_damaged);  // b and no-owner; d is a newer node's
  damaged.clear();
  EXPECT_EQ("a,c", Keys(List("n1", "", 10, &damaged)));
  ASSERT_EQ(1u, damaged.size());
  EXPECT_EQ(base::Status::Code::kNotSupported, damaged[0].code());
  MustStore("n1", "b", 10);  // a fresh hint where the damaged one was
  EXPECT_EQ("a,b,c", Keys(List("n1")));
  ExpectAccountingMatchesListing();
}

}  // namespace
}  // namespace kvring::repl
