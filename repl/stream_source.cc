#include "repl/stream_source.h"

#include <algorithm>
#include <memory>

#include "repl/aae_ranges.h"
#include "repl/leaf_source.h"
#include "repl/replica_store.h"

namespace kvring::repl {

using base::Status;

namespace {

// The first storage key a read may return: just past `after`'s, or the range's first.
std::string FirstKey(const StreamReadRequest& request, const PrefixInterval& first) {
  if (request.after.empty()) return PrefixKey(first.begin);
  std::string key = StorageKey(request.after);
  key.push_back('\0');
  return key;
}

}  // namespace

Status ReadStreamBatch(lsm::DB* db, const StreamReadRequest& request, StreamBatch* batch) {
  batch->entries.clear();
  batch->more = false;
  const uint64_t max_bytes = std::min(request.max_bytes, kMaxStreamBatchBytes);
  const std::vector<PrefixInterval> intervals = IntervalsOf(request.range);
  const std::string from = FirstKey(request, intervals.front());
  lsm::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<lsm::Iterator> it = db->NewIterator(options);
  uint64_t bytes = 0;
  for (const PrefixInterval& interval : intervals) {
    const std::string limit = PrefixKey(interval.end);
    if (interval.end != 0 && from >= limit) continue;  // `after` lies past this interval
    it->Seek(std::max(from, PrefixKey(interval.begin)));
    for (; it->Valid() && (interval.end == 0 || it->key() < limit); it->Next()) {
      if (bytes >= max_bytes) {
        batch->more = true;
        return it->status();
      }
      std::string_view key;
      if (!UserKeyOf(it->key(), &key)) continue;
      batch->entries.push_back({std::string(key), std::string(it->value())});
      bytes += key.size() + it->value().size();
    }
    KV_RETURN_IF_ERROR(it->status());
  }
  return Status::OK();
}

void StreamSource::Handle(Executor* ex, std::string body, Reply reply) {
  io_->Post([this, ex, body = std::move(body), reply = std::move(reply)] {
    StreamReadRequest request;
    StreamBatch batch;
    Status s = DecodeStreamRead(body, &request);
    if (s.ok()) s = ReadStreamBatch(db_, request, &batch);
    std::string payload;
    if (s.ok()) {
      EncodeStreamBatch(&payload, batch);
      batches_.fetch_add(1, std::memory_order_relaxed);
      bytes_.fetch_add(batch.bytes(), std::memory_order_relaxed);
    }
    ex->Post([reply, s, payload = std::move(payload)]() mutable { reply(s, std::move(payload)); });
  });
}

}  // namespace kvring::repl
