// test/fuzz/manifest.cc — libFuzzer target: the manifest as recovery reads it
// (lsm/version_set.h VersionSet::Recover over CURRENT and MANIFEST-000001 in an
// in-memory Env): the log reader in strict-tail mode, every edit's decoder, and
// the checks that edits agree with each other. The first input byte picks the
// mode:
//   even: the rest is the manifest file as found on disk;
//   odd:  the rest is cut into records (at each 0xff byte) written with
//         WalWriter, so each reaches the edit decoder and the version builder.
// Invariants: Recover succeeds or fails with a Corruption or NotSupported with
// a message; a recovered state is consistent (every level's files after L0
// sorted and disjoint), and once it is written out as a fresh manifest (the
// first change after a recovery does that) a second Recover sees the same files.
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "lsm/filename.h"
#include "lsm/version_set.h"
#include "lsm/wal_writer.h"
#include "test/fuzz/lsm_files.h"

namespace kvring::fuzz {
namespace {

constexpr char kDb[] = "/db";

// Every file of the current version, "level:number" in order.
std::vector<std::string> Files(const lsm::Version& v, int levels) {
  std::vector<std::string> out;
  for (int level = 0; level < levels; ++level) {
    const auto& files = v.files(level);
    for (size_t i = 0; i < files.size(); ++i) {
      if (level > 0 && i > 0) FUZZ_CHECK(lsm::InternalKeyCompare(files[i - 1]->largest, files[i]->smallest) < 0);
      out.push_back(std::to_string(level) + ":" + std::to_string(files[i]->number));
    }
  }
  return out;
}

// Recovers the DB directory in *env; the files of the recovered version, or
// nothing when recovery refused the manifest.
bool Recover(base::FaultEnv* env, std::vector<std::string>* files) {
  lsm::Options options;
  options.env = env;
  lsm::VersionSet versions(kDb, options);
  base::Status s = versions.Recover();
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption() || s.code() == base::Status::Code::kNotSupported);
    FUZZ_CHECK(!s.message().empty());
    return false;
  }
  *files = Files(*versions.current(), options.num_levels);
  base::Mutex mu;
  base::MutexLock lock(&mu);
  lsm::VersionEdit nothing;
  FUZZ_CHECK(versions.LogAndApply(&nothing, &mu).ok());
  return true;
}

void Fuzz(uint8_t selector, std::string_view input) {
  base::FaultEnv env;
  PutFile(&env, lsm::ManifestFileName(kDb, 1), selector % 2 == 0 ? std::string(input) : LogOf(SplitRecords(input)));
  PutFile(&env, lsm::CurrentFileName(kDb), "MANIFEST-000001\n");
  std::vector<std::string> first, second;
  if (!Recover(&env, &first)) return;
  FUZZ_CHECK(Recover(&env, &second) && second == first);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
