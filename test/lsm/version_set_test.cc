#include "lsm/version_set.h"

#include <gtest/gtest.h>

#include "base/fault_env.h"
#include "base/mutex.h"
#include "lsm/filename.h"
#include "lsm/table_format.h"
#include "lsm/wal_writer.h"

namespace kvring::lsm {
namespace {

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 3) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

class VersionSetTest : public ::testing::Test {
 protected:
  VersionSetTest() {
    options_.env = &env_;
    options_.target_file_bytes = 1000;
    options_.max_bytes_level1 = 10000;
    options_.l0_compaction_trigger = 4;
    EXPECT_TRUE(env_.CreateDir("/db").ok());
    versions_ = std::make_unique<VersionSet>("/db", options_);
    EXPECT_TRUE(versions_->CreateNew().ok());
    EXPECT_TRUE(versions_->Recover().ok());
  }

  static FileMetaData File(uint64_t number, const std::string& smallest, const std::string& largest,
                           uint64_t size = 100) {
    FileMetaData f;
    f.number = number;
    f.file_size = size;
    f.smallest = MakeInternalKey(smallest, 100, ValueKind::kValue);
    f.largest = MakeInternalKey(largest, 100, ValueKind::kValue);
    return f;
  }

  base::Status Apply(VersionEdit* edit) {
    base::MutexLock l(&mu_);
    return versions_->LogAndApply(edit, &mu_);
  }

  void Add(int level, uint64_t number, const std::string& smallest, const std::string& largest, uint64_t size = 100) {
    VersionEdit edit;
    edit.AddFile(level, File(number, smallest, largest, size));
    versions_->MarkFileNumberUsed(number);
    ASSERT_TRUE(Apply(&edit).ok());
  }

  static std::string Numbers(const std::vector<FileRef>& files) {
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : ",") + std::to_string(f->number);
    return out;
  }

  base::FaultEnv env_;
  Options options_;
  base::Mutex mu_;
  std::unique_ptr<VersionSet> versions_;
};

TEST_F(VersionSetTest, NothingToCompactBelowTheTriggers) {
  Add(0, 10, "a", "c");
  Add(1, 11, "a", "z", 5000);
  EXPECT_FALSE(versions_->NeedsCompaction());
  base::MutexLock l(&mu_);
  EXPECT_EQ(nullptr, versions_->PickCompaction());
}

TEST_F(VersionSetTest, L0AtTheTriggerCompactsEveryOverlappingL0FileWithL1) {
  Add(1, 20, "a", "b");
  Add(1, 21, "c", "f");
  Add(1, 22, "x", "y");
  Add(0, 10, "c", "d");
  Add(0, 11, "d", "e");
  Add(0, 12, "k", "m");
  Add(0, 13, "e", "g");
  ASSERT_TRUE(versions_->NeedsCompaction());
  base::MutexLock l(&mu_);
  auto c = versions_->PickCompaction();
  ASSERT_NE(nullptr, c);
  EXPECT_EQ(0, c->level());
  // The oldest file (10) and everything overlapping it transitively; not 12.
  EXPECT_EQ("13,11,10", Numbers(c->inputs(0)));
  EXPECT_EQ("21", Numbers(c->inputs(1)));
  EXPECT_FALSE(c->IsTrivialMove());
}

TEST_F(VersionSetTest, OversizedLevelCompactsRoundRobinFromItsPointer) {
  Add(1, 10, "a", "b", 4000);
  Add(1, 11, "c", "d", 4000);
  Add(1, 12, "e", "f", 4000);
  Add(2, 20, "c", "c", 100);
  Add(2, 21, "d", "e", 100);
  base::MutexLock l(&mu_);
  auto first = versions_->PickCompaction();
  ASSERT_NE(nullptr, first);
  EXPECT_EQ(1, first->level());
  EXPECT_EQ("10", Numbers(first->inputs(0)));
  EXPECT_TRUE(first->IsTrivialMove());  // nothing at L2 overlaps a..b
  auto second = versions_->PickCompaction();
  ASSERT_NE(nullptr, second);
  // 11 overlaps L2 up to "e", so 12 joins for free (no new L2 file).
  EXPECT_EQ("11,12", Numbers(second->inputs(0)));
  EXPECT_EQ("20,21", Numbers(second->inputs(1)));
  EXPECT_FALSE(second->IsTrivialMove());
}

TEST_F(VersionSetTest, InputLevelGrowsWhenItAddsNoOutputFile) {
  Add(1, 10, "a", "b", 6000);
  Add(1, 11, "c", "d", 6000);
  Add(2, 20, "a", "d", 100);
  base::MutexLock l(&mu_);
  auto c = versions_->PickCompaction();
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("10,11", Numbers(c->inputs(0)));
  EXPECT_EQ("20", Numbers(c->inputs(1)));
}

TEST_F(VersionSetTest, BaseLevelForKeyLooksBelowTheOutputLevel) {
  Add(1, 10, "a", "z", 20000);
  Add(2, 20, "a", "c");
  Add(3, 30, "m", "n");
  base::MutexLock l(&mu_);
  auto c = versions_->PickCompaction();
  ASSERT_NE(nullptr, c);
  ASSERT_EQ(1, c->level());
  EXPECT_TRUE(c->IsBaseLevelForKey("b"));   // only L2 (the output level) has it
  EXPECT_FALSE(c->IsBaseLevelForKey("m"));  // L3 may hold older versions
  EXPECT_TRUE(c->IsBaseLevelForKey("p"));
}

TEST_F(VersionSetTest, MemTableOutputGoesDeepWhenNothingOverlaps) {
  Add(1, 10, "a", "c");
  auto v = versions_->current();
  EXPECT_EQ(0, v->PickLevelForMemTableOutput(options_, "b", "b"));  // overlaps L1
  EXPECT_EQ(2, v->PickLevelForMemTableOutput(options_, "x", "y"));
  Add(0, 11, "x", "x");
  EXPECT_EQ(0, versions_->current()->PickLevelForMemTableOutput(options_, "x", "y"));
}

TEST_F(VersionSetTest, RecoveryRebuildsTheSameFilesAndCounters) {
  Add(0, 10, "a", "c");
  Add(2, 11, "d", "f");
  VersionEdit remove;
  remove.RemoveFile(0, 10);
  remove.SetLogNumber(9);
  ASSERT_TRUE(Apply(&remove).ok());
  versions_->SetLastSequence(777);
  Add(1, 12, "g", "h");
  VersionSet recovered("/db", options_);
  ASSERT_TRUE(recovered.Recover().ok());
  EXPECT_EQ(versions_->current()->DebugString(), recovered.current()->DebugString());
  EXPECT_EQ(777u, recovered.last_sequence());
  EXPECT_EQ(9u, recovered.log_number());
  EXPECT_GE(recovered.next_file_number(), 13u);
}

TEST_F(VersionSetTest, FailedManifestWriteIsUncertainUntilAFreshManifest) {
  Add(0, 10, "a", "c");
  env_.SetSyncFailure(true, "MANIFEST");
  VersionEdit edit;
  edit.AddFile(0, File(11, "d", "e"));
  base::Status s = Apply(&edit);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("MANIFEST")) << s.ToString();
  EXPECT_TRUE(versions_->manifest_uncertain());
  EXPECT_EQ(1, versions_->current()->NumFiles(0));  // not installed
  env_.SetSyncFailure(false);
  const uint64_t old_manifest = versions_->manifest_file_number();
  Add(0, 12, "f", "g");
  EXPECT_FALSE(versions_->manifest_uncertain());
  EXPECT_NE(old_manifest, versions_->manifest_file_number());
  VersionSet recovered("/db", options_);
  ASSERT_TRUE(recovered.Recover().ok());
  EXPECT_EQ("L0: 12[f..g] 10[a..c]", recovered.current()->DebugString().substr(0, 21));
}

// Found by the manifest fuzz target (test/fuzz/corpus/manifest/found-huge-log-number):
// a manifest whose edit names log number 16122744820328820703 used to recover,
// and the fresh manifest the next change wrote was MANIFEST-16122744820328820704,
// a name the following open refused ("not a manifest"): one open and the DB
// could not be opened again. Such a manifest is now refused at once.
TEST_F(VersionSetTest, AManifestNamingAFileNumberPastTheNameFormatIsRefused) {
  // The one record of that manifest (a version edit), byte for byte.
  const std::string record = Unhex(
      "01 01 02 08 03 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 "
      "05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 05 8f "
      "05 05 05 05 3d 01 00 01 df df df df df df df df df 05 05 05 df df 05 05 05 05 05 05 05 05 05 05 "
      "05 05 05 05 05 05 05 05 01");
  ASSERT_TRUE(env_.CreateDir("/huge").ok());
  std::unique_ptr<base::WritableFile> file;
  ASSERT_TRUE(env_.NewWritableFile("/huge/MANIFEST-000001", &file).ok());
  WalWriter writer(file.get());
  ASSERT_TRUE(writer.AddRecord(record).ok());
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(base::WriteStringToFileAtomic(&env_, "MANIFEST-000001\n", "/huge/CURRENT").ok());
  VersionSet v("/huge", options_);
  base::Status s = v.Recover();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("log number")) << s.ToString();
}

// Found by the manifest fuzz target (test/fuzz/corpus/manifest/found-file-listed-twice):
// a manifest whose edits added table 7 to L0 twenty times and table 6 to L1 ten
// times (bounds inverted) recovered, and the first change after the open then
// failed ("overlapping files 6 and 6 in level 1"). Listed twice, a table would be
// read twice by a compaction and deleted under its other entry. Now the open
// refuses it, naming the table.
TEST_F(VersionSetTest, AManifestListingAFileTwiceIsRefused) {
  auto recover = [&](const std::vector<VersionEdit>& edits) {
    env_.RemoveFile("/twice/MANIFEST-000001").IgnoreError();
    env_.CreateDir("/twice").IgnoreError();
    std::unique_ptr<base::WritableFile> file;
    EXPECT_TRUE(env_.NewWritableFile("/twice/MANIFEST-000001", &file).ok());
    WalWriter writer(file.get());
    for (const VersionEdit& e : edits) {
      std::string record;
      e.EncodeTo(&record);
      EXPECT_TRUE(writer.AddRecord(record).ok());
    }
    EXPECT_TRUE(file->Close().ok());
    EXPECT_TRUE(base::WriteStringToFileAtomic(&env_, "MANIFEST-000001\n", "/twice/CURRENT").ok());
    VersionSet v("/twice", options_);
    return v.Recover();
  };
  VersionEdit counters;
  counters.SetLogNumber(2);
  counters.SetNextFileNumber(10);
  counters.SetLastSequence(500);
  VersionEdit l0;
  l0.AddFile(0, File(7, "a", "c"));
  VersionEdit moved;  // a trivial move: removed from L0 and added to L1 in one edit
  moved.RemoveFile(0, 7);
  moved.AddFile(1, File(7, "a", "c"));
  ASSERT_TRUE(recover({counters, l0, moved}).ok()) << "moved, not listed twice";
  for (const auto& [again, levels] : std::vector<std::pair<VersionEdit, std::string>>{{l0, "levels 0 and 0"}}) {
    base::Status s = recover({counters, l0, again});
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find("file 7 listed twice (" + levels + ")")) << s.ToString();
  }
  VersionEdit deeper;
  deeper.AddFile(2, File(7, "x", "z"));
  base::Status s = recover({counters, l0, deeper});
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("file 7 listed twice (levels 0 and 2)")) << s.ToString();
}

TEST_F(VersionSetTest, MalformedCurrentIsCorruption) {
  ASSERT_TRUE(base::WriteStringToFileAtomic(&env_, "MANIFEST-000001", "/db/CURRENT").ok());
  VersionSet v("/db", options_);
  EXPECT_TRUE(v.Recover().IsCorruption());
  ASSERT_TRUE(base::WriteStringToFileAtomic(&env_, "MANIFEST-000099\n", "/db/CURRENT").ok());
  base::Status s = v.Recover();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("MANIFEST-000099"));
}

}  // namespace
}  // namespace kvring::lsm
