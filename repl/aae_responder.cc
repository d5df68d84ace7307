#include "repl/aae_responder.h"

#include "repl/messages.h"

namespace kvring::repl {

using base::Result;
using base::Status;

struct AaeResponder::SyncState {
  std::vector<SyncEntry> entries;
  std::vector<std::optional<SiblingSet>> answers;
  size_t left = 0;
  Status status;
  Reply reply;
};

bool AaeResponder::Handles(uint8_t opcode) {
  return opcode >= Op(ClusterOpcode::kAaeRangeHashes) && opcode <= Op(ClusterOpcode::kAaeSync);
}

void AaeResponder::Handle(Executor* ex, uint8_t opcode, std::string body, Reply reply) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  switch (static_cast<ClusterOpcode>(opcode)) {
    case ClusterOpcode::kAaeRangeHashes:
      return OnIo(ex, std::move(reply), [this, body = std::move(body)] { return RangeHashes(body); });
    case ClusterOpcode::kAaeLeafHashes:
      return OnIo(ex, std::move(reply), [this, body = std::move(body)] { return LeafHashes(body); });
    case ClusterOpcode::kAaeKeyDigests:
      return OnIo(ex, std::move(reply), [this, body = std::move(body)] { return KeyDigests(body); });
    default:
      return Sync(ex, body, std::move(reply));
  }
}

void AaeResponder::OnIo(Executor* ex, Reply reply, std::function<Result<std::string>()> work) {
  io_->Post([ex, reply = std::move(reply), work = std::move(work)] {
    Result<std::string> payload = work();
    ex->Post([reply, payload = std::move(payload)]() mutable {
      if (!payload.ok()) return reply(payload.status(), {});
      reply(Status::OK(), std::move(payload).value());
    });
  });
}

Result<std::string> AaeResponder::RangeHashes(std::string_view body) {
  std::vector<RangeHashEntry> ranges;
  KV_RETURN_IF_ERROR(DecodeRangeHashes(body, &ranges));
  std::vector<uint32_t> differing;
  std::vector<LeafHash> leaves;
  for (uint32_t i = 0; i < ranges.size(); i++) {
    KV_RETURN_IF_ERROR(leaves_->Leaves(ranges[i].interval, &leaves));
    if (RangeHash(leaves) != ranges[i].hash) differing.push_back(i);
  }
  std::string payload;
  EncodeDifferingRanges(&payload, differing);
  return payload;
}

Result<std::string> AaeResponder::LeafHashes(std::string_view body) {
  PrefixInterval interval;
  KV_RETURN_IF_ERROR(DecodeInterval(body, "AAE_LEAF_HASHES request", &interval));
  std::vector<LeafHash> leaves;
  KV_RETURN_IF_ERROR(leaves_->Leaves(interval, &leaves));
  std::erase_if(leaves, [](const LeafHash& l) { return l.keys == 0; });  // an absent leaf is an empty one
  std::string payload;
  EncodeLeafHashes(&payload, leaves);
  return payload;
}

Result<std::string> AaeResponder::KeyDigests(std::string_view body) {
  PrefixInterval interval;
  KV_RETURN_IF_ERROR(DecodeInterval(body, "AAE_KEY_DIGESTS request", &interval));
  std::vector<KeyDigestEntry> entries;
  KV_RETURN_IF_ERROR(leaves_->Digests(interval, &entries));
  std::string payload;
  EncodeKeyDigests(&payload, entries);
  return payload;
}

void AaeResponder::Sync(Executor* ex, std::string_view body, Reply reply) {
  auto st = std::make_shared<SyncState>();
  Status s = DecodeSync(body, &st->entries);
  for (size_t i = 0; s.ok() && i < st->entries.size(); i++) {
    if (st->entries[i].set) s = CheckPeerSet(*st->entries[i].set, limits_).WithContext("AAE_SYNC key '" + st->entries[i].key + "'");
  }
  if (!s.ok()) return reply(s, {});
  st->answers.resize(st->entries.size());
  st->left = 2;  // the reads started below, and the batch of merges
  st->reply = std::move(reply);
  std::vector<ReplicaStore::KeyedSet> merges;
  std::vector<size_t> merged_entries;  // merges[k] is entry merged_entries[k]
  for (size_t i = 0; i < st->entries.size(); i++) {
    if (st->entries[i].set) {
      merges.push_back({st->entries[i].key, *st->entries[i].set});
      merged_entries.push_back(i);
      continue;
    }
    st->left++;
    store_->Read(ex, st->entries[i].key, [this, st, i](Status s, std::optional<SiblingSet> set) {
      if (s.ok() && set && !set->empty()) st->answers[i] = std::move(set);
      SyncDone(st, s);
    });
  }
  keys_received_.fetch_add(merges.size(), std::memory_order_relaxed);
  // A key whose merged set is not what the peer sent is answered with it.
  store_->MergeBatch(ex, std::move(merges),
                     [this, st, merged_entries = std::move(merged_entries)](Status s, std::vector<SiblingSet> merged) {
                       for (size_t k = 0; s.ok() && k < merged.size(); k++) {
                         const size_t i = merged_entries[k];
                         if (merged[k] != *st->entries[i].set) st->answers[i] = std::move(merged[k]);
                       }
                       SyncDone(st, s);
                     });
  SyncDone(st, Status::OK());
}

void AaeResponder::SyncDone(const std::shared_ptr<SyncState>& st, const Status& s) {
  if (!s.ok() && st->status.ok()) st->status = s;
  if (--st->left != 0) return;
  if (!st->status.ok()) return st->reply(st->status, {});
  uint64_t answered = 0;
  for (const auto& a : st->answers) answered += a ? 1 : 0;
  keys_answered_.fetch_add(answered, std::memory_order_relaxed);
  std::string payload;
  EncodeSyncReply(&payload, st->answers);
  st->reply(Status::OK(), std::move(payload));
}

AaeResponderStats AaeResponder::stats() const {
  return {requests_.load(std::memory_order_relaxed), keys_received_.load(std::memory_order_relaxed),
          keys_answered_.load(std::memory_order_relaxed)};
}

}  // namespace kvring::repl
