// lsm/filename.h — names of the files in a DB directory.
//   NNNNNN.log       a write-ahead log           (docs/formats/wal.md)
//   NNNNNN.sst       an SSTable                  (docs/formats/sstable.md)
//   MANIFEST-NNNNNN  the version-edit log        (docs/formats/manifest.md)
//   CURRENT          the name of the live manifest, one line
//   LOCK             held (flock) by the process that has the DB open
//   MERKLE           the Merkle index, when enabled  (docs/formats/merkle.md)
// Numbers come from one counter per DB and are never reused, and stay below
// kMaxFileNumber.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvring::lsm {

enum class FileType { kLog, kTable, kManifest, kCurrent, kLock, kTemp };

// File numbers are below 10^18: a name of up to 19 digits parses back, and a
// counter this far from 2^64 never wraps. A manifest or a file name carrying a
// larger one is not ours (docs/formats/manifest.md).
constexpr uint64_t kMaxFileNumber = 1'000'000'000'000'000'000ull;

std::string LogFileName(std::string_view dir, uint64_t number);
std::string TableFileName(std::string_view dir, uint64_t number);
std::string ManifestFileName(std::string_view dir, uint64_t number);
std::string CurrentFileName(std::string_view dir);
std::string LockFileName(std::string_view dir);
std::string MerkleFileName(std::string_view dir);
// Parses a bare file name (no directory); false for names that are not ours.
bool ParseFileName(std::string_view name, uint64_t* number, FileType* type);

}  // namespace kvring::lsm
