#include "lsm/compaction_job.h"

#include <memory>
#include <vector>

#include "lsm/filename.h"
#include "lsm/merging_iterator.h"
#include "lsm/table_file_writer.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

bool ObsoleteEntryFilter::ShouldDrop(const ParsedInternalKey& key, const std::function<bool()>& is_base_level) {
  if (!has_current_ || key.user_key != current_user_key_) {
    current_user_key_.assign(key.user_key.data(), key.user_key.size());
    has_current_ = true;
    last_sequence_for_key_ = kMaxSequenceNumber;
  }
  newest_of_key_ = last_sequence_for_key_ == kMaxSequenceNumber;
  bool drop = false;
  if (last_sequence_for_key_ <= smallest_snapshot_) {
    drop = true;  // a newer entry of this key is visible to every snapshot
  } else if (key.kind == ValueKind::kDeletion && key.sequence <= smallest_snapshot_ && is_base_level()) {
    drop = true;  // nothing older below, and every snapshot sees the deletion
  }
  last_sequence_for_key_ = key.sequence;
  return drop;
}

namespace {

base::Status Aborted() { return base::Status::Aborted("shutting down"); }

bool ShuttingDown(const JobContext& ctx) {
  return ctx.shutting_down != nullptr && ctx.shutting_down->load(std::memory_order_acquire);
}

base::Status MalformedKey(std::string_view where) {
  return base::Status::Corruption(std::string(where) + ": malformed internal key");
}

// Options::compaction_filter's contract: only a key's newest value in the
// input that no live snapshot reads.
// Drops (and counts) an entry a range deletion covers.
bool RangeDeleted(CoverageCursor* cursor, const ParsedInternalKey& key, std::string_view internal_key,
                  std::string_view value, JobStats* stats) {
  if (!cursor->Covers(key.user_key, key.sequence)) return false;
  stats->entries_dropped++;
  stats->entries_range_deleted++;
  stats->bytes_range_deleted += internal_key.size() + value.size();
  return true;
}

uint64_t RangeEpoch(const JobContext& ctx) {
  return ctx.range_deletions != nullptr ? ctx.range_deletions->max_epoch() : 0;
}

bool ShouldPurge(const JobContext& ctx, const ObsoleteEntryFilter& filter, const ParsedInternalKey& key,
                 std::string_view value) {
  const CompactionFilter& purge = ctx.options->compaction_filter;
  if (!purge || !filter.newest_of_key() || key.kind != ValueKind::kValue) return false;
  if (key.sequence <= ctx.newest_snapshot) return false;
  return purge(key.user_key, value, key.sequence);
}

}  // namespace

base::Status RunCompaction(const JobContext& ctx, Compaction* c, SequenceNumber smallest_snapshot, JobStats* stats) {
  ReadOptions read_options;
  read_options.verify_checksums = true;
  read_options.fill_cache = false;
  std::vector<std::unique_ptr<Iterator>> children;
  for (int which = 0; which < 2; which++) {
    for (const FileRef& f : c->inputs(which)) {
      children.push_back(ctx.table_cache->NewIterator(read_options, f->number, f->file_size));
    }
  }
  auto input = NewMergingIterator(std::move(children));
  const TableOptions table_options = TableOptionsForLevel(*ctx.options, c->output_level());
  ObsoleteEntryFilter filter(smallest_snapshot);
  CoverageCursor deleted(ctx.range_deletions.get());
  std::unique_ptr<TableFileWriter> out;
  std::vector<FileMetaData> outputs;
  std::string last_output_user_key;
  std::string purged_key;
  bool want_cut = false;

  auto finish_output = [&]() -> base::Status {
    FileMetaData meta;
    base::Status s = out->Finish(&meta);
    meta.filter_epoch = ctx.filter_epoch;
    meta.range_epoch = RangeEpoch(ctx);
    out.reset();
    if (!s.ok()) return s;
    stats->bytes_written += meta.file_size;
    stats->files_written++;
    outputs.push_back(std::move(meta));
    return base::Status::OK();
  };

  base::Status s;
  for (input->SeekToFirst(); input->Valid(); input->Next()) {
    if (ShuttingDown(ctx)) return Aborted();
    const std::string_view key = input->key();
    ParsedInternalKey parsed;
    if (!ParseInternalKey(key, &parsed)) return MalformedKey("compaction input " + c->DebugString());
    stats->entries_in++;
    if (c->ShouldStopBefore(key)) want_cut = true;
    // Cut only between user keys: at L1+ a user key never spans two files.
    if (out != nullptr && parsed.user_key != last_output_user_key &&
        (want_cut || out->FileSize() >= c->max_output_file_bytes())) {
      KV_RETURN_IF_ERROR(finish_output());
      want_cut = false;
    }
    if (RangeDeleted(&deleted, parsed, key, input->value(), stats)) continue;
    if (filter.ShouldDrop(parsed, [&] { return c->IsBaseLevelForKey(parsed.user_key); })) {
      stats->entries_dropped++;
      continue;
    }
    std::string_view out_key = key;
    std::string_view out_value = input->value();
    if (ShouldPurge(ctx, filter, parsed, out_value)) {
      // A deletion marker with the same sequence: older versions below stay hidden.
      stats->entries_purged++;
      purged_key = MakeInternalKey(parsed.user_key, parsed.sequence, ValueKind::kDeletion);
      out_key = purged_key;
      out_value = {};
      if (parsed.sequence <= smallest_snapshot && c->IsBaseLevelForKey(parsed.user_key)) {
        stats->entries_dropped++;  // the usual rule for a marker with nothing below
        continue;
      }
    }
    if (out == nullptr) {
      stats->file_numbers.push_back(ctx.new_file_number());
      out = std::make_unique<TableFileWriter>(ctx.env, ctx.dbname, table_options, stats->file_numbers.back(),
                                              &ctx.options->is_tombstone);
      KV_RETURN_IF_ERROR(out->Open());
    }
    out->Add(out_key, out_value);
    last_output_user_key.assign(parsed.user_key.data(), parsed.user_key.size());
  }
  KV_RETURN_IF_ERROR(input->status());
  if (out != nullptr) KV_RETURN_IF_ERROR(finish_output());
  stats->bytes_read += c->input_bytes();
  c->AddInputDeletions(c->edit());
  for (auto& meta : outputs) c->edit()->AddFile(c->output_level(), std::move(meta));
  return base::Status::OK();
}

base::Status BuildTable(const JobContext& ctx, Iterator* iter, int level, SequenceNumber smallest_snapshot,
                        FileMetaData* meta, JobStats* stats) {
  meta->file_size = 0;
  ObsoleteEntryFilter filter(smallest_snapshot);
  CoverageCursor deleted(ctx.range_deletions.get());
  std::unique_ptr<TableFileWriter> out;
  const auto never_base = [] { return false; };  // deeper levels may hold the key
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    if (ShuttingDown(ctx)) return Aborted();
    ParsedInternalKey parsed;
    if (!ParseInternalKey(iter->key(), &parsed)) return MalformedKey("memtable");
    stats->entries_in++;
    if (RangeDeleted(&deleted, parsed, iter->key(), iter->value(), stats)) continue;
    if (filter.ShouldDrop(parsed, never_base)) {
      stats->entries_dropped++;
      continue;
    }
    if (out == nullptr) {
      stats->file_numbers.push_back(ctx.new_file_number());
      out = std::make_unique<TableFileWriter>(ctx.env, ctx.dbname, TableOptionsForLevel(*ctx.options, level),
                                              stats->file_numbers.back(), &ctx.options->is_tombstone);
      KV_RETURN_IF_ERROR(out->Open());
    }
    out->Add(iter->key(), iter->value());
  }
  KV_RETURN_IF_ERROR(iter->status());
  if (out == nullptr) return base::Status::OK();
  KV_RETURN_IF_ERROR(out->Finish(meta));
  meta->range_epoch = RangeEpoch(ctx);
  stats->bytes_written += meta->file_size;
  stats->files_written++;
  return base::Status::OK();
}

}  // namespace kvring::lsm
