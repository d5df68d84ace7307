// test/fuzz/wal.cc — libFuzzer target: the log reader (lsm/wal_reader.h,
// docs/formats/wal.md) that recovery runs over the WAL and the manifest, and the
// write batches (lsm/write_batch.h) a WAL's records carry. The first input byte
// picks the mode:
//   even: the rest is a log file as found on disk (torn, damaged, anything),
//         read in both tail modes;
//   odd:  the rest is cut into records (at each 0xff byte) that are written with
//         WalWriter and read back: every record must come back, unchanged and in
//         order, nothing dropped or reported. Checksums are right here, so the
//         records reach the write batch decoder intact.
// Invariants: nothing reported or dropped lies outside the file; every record
// read decodes as a batch or is refused by its decoder, without a crash.
#include <string>
#include <vector>

#include "lsm/wal_reader.h"
#include "lsm/wal_writer.h"
#include "test/fuzz/lsm_files.h"

namespace kvring::fuzz {
namespace {

constexpr char kPath[] = "/db/000001.log";

class BoundsReporter final : public lsm::WalReader::Reporter {
 public:
  explicit BoundsReporter(uint64_t file_size) : file_size_(file_size) {}
  void Corruption(uint64_t offset, uint64_t bytes, const base::Status& reason) override {
    FUZZ_CHECK(offset <= file_size_ && bytes <= file_size_ - offset);
    FUZZ_CHECK(!reason.ok() && !reason.message().empty());
  }

 private:
  const uint64_t file_size_;
};

// Reads every record of the file at kPath; returns them.
std::vector<std::string> ReadAll(base::FaultEnv* env, uint64_t file_size, bool strict_tail, uint64_t* dropped) {
  std::unique_ptr<base::SequentialFile> file;
  FUZZ_CHECK(env->NewSequentialFile(kPath, &file).ok());
  BoundsReporter reporter(file_size);
  lsm::WalReader reader(file.get(), kPath, &reporter, strict_tail);
  std::vector<std::string> records;
  std::string_view record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch)) {
    FUZZ_CHECK(reader.last_record_offset() < file_size);
    records.emplace_back(record);
  }
  FUZZ_CHECK(reader.dropped_tail_bytes() <= file_size);
  *dropped = reader.dropped_tail_bytes();
  return records;
}

void RawFile(std::string_view bytes) {
  base::FaultEnv env;
  PutFile(&env, kPath, bytes);
  uint64_t dropped = 0;
  for (bool strict : {false, true}) {
    for (const auto& r : ReadAll(&env, bytes.size(), strict, &dropped)) CheckBatch(r);
  }
}

void WrittenRecords(std::string_view input) {
  std::vector<std::string> records = SplitRecords(input);
  std::string log = LogOf(records);
  base::FaultEnv env;
  PutFile(&env, kPath, log);
  uint64_t dropped = 0;
  FUZZ_CHECK(ReadAll(&env, log.size(), true, &dropped) == records && dropped == 0);
  for (const auto& r : records) CheckBatch(r);
}

void Fuzz(uint8_t selector, std::string_view input) {
  if (selector % 2 == 0) RawFile(input);
  else WrittenRecords(input);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
