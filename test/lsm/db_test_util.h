// test/lsm/db_test_util.h — helpers shared by the engine's DB-level tests: small
// options that make flushes and compactions happen on little data, and
// string-returning wrappers so assertions read like the claims they check.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "lsm/db_impl.h"
#include "lsm/engine.h"

namespace kvring::lsm::test {

// Options for tests: tiny memtables, files and levels so that a few thousand
// writes exercise flushes and compactions.
Options SmallOptions(base::Env* env);

// KV_TEST_SCALE (default 1): multiplies iteration counts of the heavier tests.
int TestScale();

std::string Get(DB* db, std::string_view key, const Snapshot* snapshot = nullptr);
// "k1=v1,k2=v2" from a full iteration.
std::string Contents(DB* db, const Snapshot* snapshot = nullptr, const std::string* upper_bound = nullptr);
// Every live key/value, in order.
std::map<std::string, std::string> Dump(DB* db);
// Number of files per level, like "2,1,0,...": trailing zeros dropped.
std::string FilesPerLevel(DB* db);
// A key whose bytes sort like the integer.
std::string Key(int i);

// The Merkle leaves of `data` over the intervals of `got`, computed from
// scratch (XOR of EntryHash(key, Hash64(value)) per interval, the default digest).
std::vector<MerkleLeaf> ScratchMerkleLeaves(const std::map<std::string, std::string>& data,
                                            const std::vector<MerkleLeaf>& got);
// db->MerkleLeaves(begin, end) against ScratchMerkleLeaves over `data` (and that
// the leaves tile [begin, end)): "" when they agree, else the first difference.
std::string CheckMerkleLeaves(DB* db, const std::map<std::string, std::string>& data, uint64_t begin = 0,
                              uint64_t end = 0);

}  // namespace kvring::lsm::test
