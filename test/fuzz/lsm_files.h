// test/fuzz/lsm_files.h — what the lsm fuzz targets share: fuzz bytes put into a
// file of an in-memory Env (base::FaultEnv), a WritableFile into a string, fuzz
// bytes cut into records and written as a log, and the check of a write batch
// decode against its encoding.
// Thread safety: needs external synchronization (one fuzz input at a time).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fault_env.h"
#include "lsm/wal_writer.h"
#include "lsm/write_batch.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {

// Writes `bytes` to `path` (creating its directory) in *env.
inline void PutFile(base::FaultEnv* env, const std::string& path, std::string_view bytes) {
  FUZZ_CHECK(env->CreateDir(base::DirName(path)).ok());
  std::unique_ptr<base::WritableFile> file;
  FUZZ_CHECK(env->NewWritableFile(path, &file).ok());
  FUZZ_CHECK(file->Append(bytes).ok() && file->Close().ok());
}

// A WritableFile that appends to a string.
class StringFile final : public base::WritableFile {
 public:
  base::Status Append(std::string_view data) override {
    contents.append(data);
    return base::Status::OK();
  }
  base::Status Flush() override { return base::Status::OK(); }
  base::Status Sync() override { return base::Status::OK(); }
  base::Status Close() override { return base::Status::OK(); }
  std::string contents;
};

// The records of a fuzz input: its bytes cut at each 0xff.
inline std::vector<std::string> SplitRecords(std::string_view input) {
  std::vector<std::string> records(1);
  for (char c : input) {
    if (c == '\xff') records.emplace_back();
    else records.back().push_back(c);
  }
  return records;
}

// A log file (docs/formats/wal.md) holding `records`, written with WalWriter.
inline std::string LogOf(const std::vector<std::string>& records) {
  StringFile file;
  lsm::WalWriter writer(&file);
  for (const auto& r : records) FUZZ_CHECK(writer.AddRecord(r).ok());
  return file.contents;
}

// Re-adds every record it is handed to `batch`.
class BatchRebuilder final : public lsm::WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override { batch.Put(key, value); }
  void Delete(std::string_view key) override { batch.Delete(key); }
  lsm::WriteBatch batch;
};

// A WAL record as the engine replays it: a write batch. When it decodes, the
// records re-encode (with the same sequence) to a batch that iterates the same.
inline void CheckBatch(std::string_view rep) {
  BatchRebuilder first;
  if (!lsm::WriteBatch::IterateRep(rep, &first).ok()) return;
  lsm::WriteBatch decoded;
  FUZZ_CHECK(decoded.SetRep(rep).ok());
  first.batch.set_sequence(decoded.sequence());
  BatchRebuilder second;
  FUZZ_CHECK(lsm::WriteBatch::IterateRep(first.batch.rep(), &second).ok());
  second.batch.set_sequence(decoded.sequence());
  FUZZ_CHECK(second.batch.rep() == first.batch.rep());
}

}  // namespace kvring::fuzz
