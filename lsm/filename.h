// lsm/filename.h — names of the files in a DB directory.
//   NNNNNN.log       a write-ahead log           (docs/formats/wal.md)
//   NNNNNN.sst       an SSTable                  (docs/formats/sstable.md)
//   MANIFEST-NNNNNN  the version-edit log        (docs/formats/manifest.md)
//   CURRENT          the name of the live manifest, one line
//   LOCK             held (flock) by the process that has the DB open
// Numbers come from one counter per DB and are never reused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvring::lsm {

enum class FileType { kLog, kTable, kManifest, kCurrent, kLock, kTemp };

std::string LogFileName(std::string_view dir, uint64_t number);
std::string TableFileName(std::string_view dir, uint64_t number);
std::string ManifestFileName(std::string_view dir, uint64_t number);
std::string CurrentFileName(std::string_view dir);
std::string LockFileName(std::string_view dir);
// Parses a bare file name (no directory); false for names that are not ours.
bool ParseFileName(std::string_view name, uint64_t* number, FileType* type);

}  // namespace kvring::lsm
