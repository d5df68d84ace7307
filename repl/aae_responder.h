// repl/aae_responder.h — the answering side of an anti-entropy exchange
// (repl/aae_exchange.h runs the asking side): AAE_RANGE_HASHES, AAE_LEAF_HASHES
// and AAE_KEY_DIGESTS from the leaf source (on the I/O pool: they read the
// engine), AAE_SYNC by merging every set it is sent through ReplicaStore::Merge
// (never an overwrite: a write that raced the repair stays) and answering its own
// set of each key where it differs from what it was sent. A SYNC is answered once
// every merge is durable.
// Thread safety: Handle on an executor's thread (the reply runs on it too);
// stats() on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "repl/aae_messages.h"
#include "repl/leaf_source.h"
#include "repl/peer_set.h"
#include "repl/replica_store.h"
#include "repl/transport.h"

namespace kvring::repl {

struct AaeResponderStats {
  uint64_t requests = 0;      // AAE requests answered (any of the four)
  uint64_t keys_received = 0; // sets received in AAE_SYNC (merged here)
  uint64_t keys_answered = 0; // sets sent back in AAE_SYNC replies
};

class AaeResponder {
 public:
  using Reply = std::function<void(base::Status status, std::string payload)>;
  // Every pointer must outlive the responder and the work it queued. *io runs the
  // leaf scans (kvnode: its I/O pool, repl/pool_executor.h).
  // Every set an AAE_SYNC brings is held to `limits` (repl/peer_set.h) before
  // anything is merged: one over them refuses the request (InvalidArgument).
  AaeResponder(LeafSource* leaves, ReplicaStore* store, Executor* io, PeerSetLimits limits = {})
      : leaves_(leaves), store_(store), io_(io), limits_(limits) {}

  // True for the four AAE opcodes.
  static bool Handles(uint8_t opcode);
  // Answers one request (REQUIRES: Handles(opcode)) through `reply`, on ex's thread.
  void Handle(Executor* ex, uint8_t opcode, std::string body, Reply reply);

  AaeResponderStats stats() const;

 private:
  struct SyncState;
  void OnIo(Executor* ex, Reply reply, std::function<base::Result<std::string>()> work);
  base::Result<std::string> RangeHashes(std::string_view body);
  base::Result<std::string> LeafHashes(std::string_view body);
  base::Result<std::string> KeyDigests(std::string_view body);
  void Sync(Executor* ex, std::string_view body, Reply reply);
  void SyncDone(const std::shared_ptr<SyncState>& st, const base::Status& s);

  LeafSource* const leaves_;
  ReplicaStore* const store_;
  Executor* const io_;
  const PeerSetLimits limits_;
  std::atomic<uint64_t> requests_{0}, keys_received_{0}, keys_answered_{0};
};

}  // namespace kvring::repl
