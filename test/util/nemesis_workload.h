// test/util/nemesis_workload.h — the nemesis harness's client threads
// (build/kvnemesis, docs/testing.md "The nemesis"). Each worker is one history
// process with a client per node, and picks every operation, key, coordinator
// and R/W/strict level from its own seed:
//
//   registers    reg-<t>-<k>: written only by worker t (W=2 strict, with the
//                context of its last receipt, or of a read after a failure),
//                read by everyone at R=2 strict: stale reads.
//   sets         set-<slot>-<gen>: read (any R), add one element, write back
//                with the read's context (any W) through any coordinator: lost
//                updates. A key takes 40 adds, then the slot moves to a new one.
//   deletes      del-<k>: read, then delete with its context or re-create:
//                resurrections.
//   reads        any key at any R, strict or not.
//
// Every operation is recorded in the shared history (test/util/history.h). The
// ledger keeps what the final check needs: the keys touched, the elements of
// every acknowledged set write, and each key's last write.
// Thread safety: NemesisLedger is thread-safe; a NemesisWorker belongs to its thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "test/util/history.h"
#include "test/util/kvnode_process.h"

namespace kvring::test {

// Operation counts (thread-safe).
struct NemesisCounts {
  std::atomic<uint64_t> reads{0}, reads_ok{0};
  std::atomic<uint64_t> writes{0}, writes_ok{0}, writes_failed{0}, writes_unknown{0};
  std::atomic<uint64_t> deletes{0};
};

// A read's siblings as a history records them (value and dot).
std::vector<ReadValue> ReadValuesOf(const ReadResult& read);

class NemesisLedger {
 public:
  struct LastWrite {
    std::string value;   // "" for a delete
    bool acknowledged = false;
  };

  // A key read: it gets final reads too.
  void Touched(const std::string& key);
  void Invoked(const std::string& key, const std::string& value);
  void Completed(const std::string& key, const std::string& value, bool acknowledged);
  // The elements of an acknowledged set write.
  void AckedElements(const std::string& key, const std::vector<std::string>& elements);

  std::vector<std::string> Keys() const;
  std::set<std::string> AckedElementsOf(const std::string& key) const;
  LastWrite LastWriteOf(const std::string& key) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, LastWrite> last_;  // every key written or read
  std::map<std::string, std::set<std::string>> elements_;
};

// What the workers share.
struct NemesisShared {
  HistoryWriter* history = nullptr;
  NemesisLedger* ledger = nullptr;
  NemesisCounts* counts = nullptr;
  std::atomic<bool>* stop = nullptr;
  std::atomic<uint64_t> set_adds[3] = {};  // per set slot: adds so far
  int workers = 1;
};

struct NemesisWorkerOptions {
  uint64_t seed = 1;
  int index = 0;                        // worker t (history process t + 1)
  std::vector<std::string> addresses;   // one client per node
  std::string client_source;            // source host of the connections
  uint64_t timeout_ms = 3'000;
  uint64_t think_ms = 10;               // mean pause between operations
};

class NemesisWorker {
 public:
  NemesisWorker(NemesisWorkerOptions options, NemesisShared* shared);
  // Runs operations until *shared->stop.
  void Run();

  // "set-1-3" elements as a value ("t1.4,t2.9": sorted, comma-separated).
  static std::string SetValue(const std::set<std::string>& elements);
  static std::set<std::string> SetElements(std::string_view value);

 private:
  void Step();
  void RegisterStep();
  void SetStep();
  void DeleteStep();
  void ReadStep();

  // One recorded operation each; the reply's status decides ok / fail / info.
  base::Result<ReadResult> Get(const std::string& key, uint8_t r, bool strict);
  base::Result<WriteResult> Put(const std::string& key, const std::string& value, const std::string& context,
                                uint8_t w, bool strict);
  base::Result<WriteResult> Delete(const std::string& key, const std::string& context, uint8_t w, bool strict);
  void Complete(PendingWrite&& op, const std::string& key, const std::string& value,
                const base::Result<WriteResult>& r);

  KvClient& AnyCoordinator();
  uint8_t AnyLevel();
  std::string SetKey(int slot) const;
  std::string NextValue(const std::string& key);

  const NemesisWorkerOptions o_;
  NemesisShared* const shared_;
  const int64_t process_;
  base::Random rnd_;
  std::vector<std::unique_ptr<KvClient>> clients_;
  std::map<std::string, std::string> register_context_;  // own register -> context of its last receipt
  uint64_t next_ = 1;
};

}  // namespace kvring::test
