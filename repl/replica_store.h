// repl/replica_store.h — this node's replica of every key it holds: sibling sets
// (repl/sibling_set.h) stored in the LSM engine under (token, key).
//
//   engine key := token:big-endian fixed64 | key       token = ring::TokenOf(key)
//   engine value := an encoded SiblingSet (docs/formats/value.md)
//
// The big-endian token prefix makes a ring range a contiguous engine key range,
// so streaming and Merkle trees of a range are range scans (DESIGN.md).
//
// Every change is a read-modify-write of one key's set (coordinate a put, merge a
// replica write), serialized per key by striped locks. The caller's thread serves
// engine hits inline (ReadOptions::no_io); work that needs a disk read moves to
// the I/O pool, so an event loop never blocks on the disk.
// Callbacks run on the executor's thread: inline, before the call returns, when
// the work completed on the calling thread (an engine hit, and a write the
// engine reports durable at once), else later through the Executor. Callers must
// tolerate both (set up their state before the call). `applied` always runs
// before `durable`, whichever thread the engine reports durability on.
// Thread safety: thread-safe. REQUIRES: every method is called on `ex`'s thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "lsm/engine.h"
#include "repl/messages.h"
#include "repl/sibling_set.h"
#include "repl/transport.h"

namespace kvring::repl {

// The engine key of a user key: big-endian token, then the key.
std::string StorageKey(std::string_view key);
// The user key inside an engine key; false when it is shorter than a token.
bool UserKeyOf(std::string_view storage_key, std::string_view* key);

struct ReplicaStoreStats {
  uint64_t reads_inline = 0;      // served on the caller's thread (engine hit)
  uint64_t reads_offloaded = 0;   // needed a disk read: ran on the I/O pool
  uint64_t writes = 0;
  uint64_t writes_offloaded = 0;  // read-modify-writes that ran on the I/O pool
  uint64_t merges_unchanged = 0;  // replica writes that brought nothing new
  uint64_t refused_siblings = 0;  // coordinated writes refused: the key is at the sibling cap
  uint64_t refused_size = 0;      // coordinated writes refused: the set would exceed max_set_bytes
  uint64_t merges_refused_size = 0;  // merges refused: the set would exceed 2 x max_set_bytes
};

class ReplicaStore {
 public:
  // *db, *io and *clock must outlive the store. self: this node's id (the actor of
  // the writes it coordinates). max_set_bytes: the largest encoded sibling set a
  // coordinated write may leave (it must travel in one frame, also merged with
  // another replica's set: kvnode passes a quarter of the frame limit).
  ReplicaStore(lsm::DB* db, base::ThreadPool* io, std::string self, VersioningOptions versioning,
               size_t max_set_bytes, base::Clock* clock, base::Logger* logger);
  ReplicaStore(const ReplicaStore&) = delete;
  ReplicaStore& operator=(const ReplicaStore&) = delete;

  const std::string& self() const { return self_; }

  // The local set of `key`; nullopt when this replica holds nothing for it.
  using ReadDone = std::function<void(base::Status, std::optional<SiblingSet>)>;
  void Read(Executor* ex, std::string_view key, ReadDone done);

  // Called once the new set is applied (visible to reads), with that set: what
  // the coordinator replicates. On error, `applied` gets the error and `durable`
  // is not called.
  using AppliedDone = std::function<void(base::Status, const SiblingSet&)>;
  // Called once the change is durable as the engine's sync mode requires.
  using DurableDone = std::function<void(base::Status)>;

  // A write this replica coordinates: a new sibling with a dot of this node's
  // actor (self()). context: what the client had seen (empty when it saw
  // nothing or sent no context: the write then supersedes nothing and becomes a
  // sibling of whatever exists). overwrite: the write also supersedes everything
  // this replica holds for the key (the client asked for last-writer-wins).
  // TooLarge, storing nothing, when the key would exceed the sibling cap or
  // max_set_bytes (counted in stats()).
  void Coordinate(Executor* ex, std::string_view key, WriteKind kind, std::string_view value,
                  VersionVector context, bool overwrite, AppliedDone applied, DurableDone durable);

  // Merges another replica's set into the local one (replication, read repair).
  // Nothing is written when the merge changes nothing; durable still reports.
  void Merge(Executor* ex, std::string_view key, SiblingSet incoming, AppliedDone applied,
             DurableDone durable);

  // A key and the set another replica holds for it.
  struct KeyedSet {
    std::string key;
    SiblingSet set;
  };
  // The first error, and per entry the set this replica holds once it is merged
  // (every entry's, when the status is OK).
  using BatchDone = std::function<void(base::Status, std::vector<SiblingSet>)>;
  // Merges many keys' sets at once (streaming, anti-entropy): each entry as Merge
  // would, but a chunk of up to kMergeChunk keys is one engine write, under its
  // keys' stripe locks (taken in stripe order, so no deadlock with the one-key
  // writers, which take one). A key may repeat: later entries merge into the
  // earlier result. A batch of one chunk or less completes on the caller's thread
  // when its reads hit memory and its stripes are free; otherwise, and for larger
  // batches, it runs on the I/O pool, the event loop free meanwhile (everything on
  // the caller's thread after RunBulkInline). `done` is posted to ex once every
  // write is durable; on the first error the rest is not merged (what was
  // written stays: merging again is harmless) and done gets the error.
  void MergeBatch(Executor* ex, std::vector<KeyedSet> entries, BatchDone done);
  // At most this many stripes held at once: few enough that one-key writers
  // rarely wait (and within the 64 locks ThreadSanitizer tracks per thread).
  static constexpr size_t kMergeChunk = 32;
  // MergeBatch works on the caller's thread: the simulator, whose engines never
  // need I/O, stays on one thread and replayable.
  void RunBulkInline() { bulk_inline_ = true; }

  ReplicaStoreStats stats() const;

 private:
  struct BatchState;
  // One chunk [begin, end) of a MergeBatch: merged under its stripes, written.
  // Without allow_io, Busy (nothing done) when a stripe is locked or a read needs I/O.
  base::Status MergeChunk(const std::vector<KeyedSet>& entries, size_t begin, size_t end, bool allow_io,
                          const std::shared_ptr<BatchState>& state);
  void RunBatch(std::vector<KeyedSet> entries, const std::shared_ptr<BatchState>& state);
  // Changes the set in place; a non-OK status aborts the write (nothing stored).
  // *changed = false skips the engine write.
  using Mutation = std::function<base::Status(SiblingSet* set, bool* changed)>;

  // Who asks decides the size a result may reach (TooLarge past it, nothing
  // stored): a coordinated write max_set_bytes; a merge twice that, since two
  // replicas' sets may meet, but no more: a larger set could not be read back in
  // one frame. A refused merge loses nothing: the sender still holds its set.
  enum class Origin { kCoordinated, kMerged };
  void ReadModifyWrite(Executor* ex, std::string key, Mutation mutate, Origin origin, AppliedDone applied,
                       DurableDone durable);
  // One attempt under the key's stripe lock. Returns false (nothing done) when the
  // read needs I/O and `allow_io` is false.
  bool TryReadModifyWrite(Executor* ex, const std::string& key, const Mutation& mutate, Origin origin,
                          bool allow_io, const AppliedDone& applied, const DurableDone& durable);
  // Merges `incoming` into *set (pruned as versioning_ says); false, *set
  // untouched, when it brings nothing new.
  bool MergeInto(const SiblingSet& incoming, SiblingSet* set) const;
  base::Status CheckSize(Origin origin, std::string_view storage_key, const SiblingSet& set, size_t bytes);
  base::Status LoadSet(const lsm::ReadOptions& options, std::string_view storage_key, SiblingSet* set,
                       bool* found);
  std::mutex& StripeFor(std::string_view storage_key);
  static size_t StripeIndex(std::string_view storage_key);

  lsm::DB* const db_;
  base::ThreadPool* const io_;
  const std::string self_;
  const VersioningOptions versioning_;
  const size_t max_set_bytes_;
  base::Clock* const clock_;
  base::Logger* const logger_;

  static constexpr size_t kStripes = 1024;
  std::array<std::mutex, kStripes> stripes_;

  struct Counters {
    std::atomic<uint64_t> reads_inline{0}, reads_offloaded{0}, writes{0}, writes_offloaded{0},
        merges_unchanged{0}, refused_siblings{0}, refused_size{0}, merges_refused_size{0};
  };
  Counters counters_;
  bool bulk_inline_ = false;
};

}  // namespace kvring::repl
