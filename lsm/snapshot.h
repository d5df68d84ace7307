// lsm/snapshot.h — the engine's Snapshot: a sequence number the DB keeps in its
// list of live snapshots (compactions keep every version a snapshot can see).
// Thread safety: immutable once created; created and released under the DB mutex.
#pragma once

#include "lsm/engine.h"

namespace kvring::lsm {

class SnapshotImpl final : public Snapshot {
 public:
  explicit SnapshotImpl(SequenceNumber sequence) : sequence_(sequence) {}
  SequenceNumber sequence() const override { return sequence_; }

 private:
  const SequenceNumber sequence_;
};

}  // namespace kvring::lsm
