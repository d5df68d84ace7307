// repl/node_state.h — what a node remembers about itself across restarts, kept in
// DATA/node_state: its id, a generation (raised at every start, so peers can tell
// a restarted node from an old one), the epoch of its write actor, and whether its
// last run stopped cleanly.
//
// Why the epoch (docs/versioning.md, "Dots must never repeat"): a node mints the
// dots of the writes it coordinates from the histories it has stored. A node that
// lost its newest writes (the unsynced tail under --sync interval, a disk that
// lied) would mint the same dots again for new writes, and replicas that kept the
// lost write would take the new one as already seen: an acknowledged write gone
// (Riak's KV679). So the actor is `id` in epoch 1 and `id#E` in epoch E, and the
// epoch is raised, durably and before any write is coordinated, at every start
// that follows a run which did not stop cleanly. A clean stop (every write
// flushed and synced) keeps the epoch.
//
// The generation is the larger of the last one plus 1 and the wall clock in
// milliseconds (Cassandra's rule, finer): so a run whose generation could not be
// persisted (a full disk) is still outgrown by every later start, whatever that
// start reads from the file. Such a run keeps its state in memory (pending())
// and coordinates no write until PersistPending() succeeds: the epoch it raised
// is durable before it is used.
//
//   node_state := magic:"KVNS" version:u8 id:lp generation:varint64 epoch:varint64
//                 flags:u8 crc:fixed32                  flags: 0x01 CLEAN
//   crc        := masked crc32c of every byte before it
// Byte-by-byte with an example: docs/formats/node_state.md. On-disk values:
// never renumber.
// Thread safety: NodeStateFile needs external synchronization (the node calls it
// at start, from its read-only retry while pending, and at stop).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"

namespace kvring::repl {

constexpr uint8_t kNodeStateVersion = 1;
constexpr uint8_t kNodeStateClean = 0x01;
constexpr char kNodeStateFileName[] = "node_state";
// Separates a node id from its epoch in an actor id; node ids may not contain it.
constexpr char kEpochSeparator = '#';

struct NodeState {
  std::string id;
  uint64_t generation = 0;  // starts so far (1 after the first)
  uint64_t epoch = 1;       // the actor epoch of the current run
  bool clean = false;       // the run that wrote this state stopped cleanly

  friend bool operator==(const NodeState&, const NodeState&) = default;
};

void EncodeNodeState(const NodeState& state, std::string* dst);
// Corruption naming what is wrong (magic, checksum, truncation, flags);
// NotSupported for a newer version.
[[nodiscard]] base::Result<NodeState> DecodeNodeState(std::string_view bytes);

// The actor id of the writes a node coordinates in `epoch`: the node id itself in
// epoch 1 (so clocks stay short and older data reads the same), `id#epoch` after.
std::string ActorId(std::string_view node_id, uint64_t epoch);

class NodeStateFile {
 public:
  // *env must outlive the file. path: DATA/node_state.
  NodeStateFile(base::Env* env, std::string path) : env_(env), path_(std::move(path)) {}

  // At start, before the node coordinates any write: loads the state, raises the
  // generation (see above), raises the epoch unless the last run stopped cleanly
  // and !new_epoch, and persists it durably marked not clean. Without a file the
  // state is new (epoch 1), unless `has_data` says the engine already holds data
  // (the file was lost, or the data predates it): then nothing is known of the
  // epochs used before, and the epoch becomes the wall clock in seconds, larger
  // than any epoch raised one start at a time. now_micros: the wall clock.
  // A persist that fails with NoSpace still returns the state, with pending().
  // InvalidArgument when the directory belongs to another node id.
  [[nodiscard]] base::Result<NodeState> Begin(std::string_view node_id, bool new_epoch, bool has_data,
                                              uint64_t now_micros);
  // Persists the state Begin could not (OK when nothing is pending).
  [[nodiscard]] base::Status PersistPending();
  // At a clean stop, once every write is durable: persists the state marked clean.
  [[nodiscard]] base::Status MarkClean();

  const NodeState& state() const { return state_; }
  // Whether Begin raised the epoch (for the start-up log line).
  bool epoch_raised() const { return epoch_raised_; }
  // Whether this run's state is not on disk yet (Begin met a full disk).
  bool pending() const { return pending_; }

 private:
  base::Status Persist();

  base::Env* const env_;
  const std::string path_;
  NodeState state_;
  bool epoch_raised_ = false;
  bool pending_ = false;
};

}  // namespace kvring::repl
