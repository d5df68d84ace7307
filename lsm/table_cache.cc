#include "lsm/table_cache.h"

#include "base/coding.h"
#include "lsm/filename.h"

namespace kvring::lsm {

namespace {

void DeleteTable(std::string_view /*key*/, void* value) { delete static_cast<Table*>(value); }

// Many shards spread lock traffic; a small budget stays in one shard so the
// bound is exact.
int ShardBitsFor(int max_open_files) { return max_open_files >= 256 ? 4 : 0; }

}  // namespace

TableCache::TableCache(base::Env* env, std::string db_dir, const TableOptions& options, int max_open_files,
                       Cache* block_cache)
    : env_(env),
      db_dir_(std::move(db_dir)),
      options_(options),
      block_cache_(block_cache),
      tables_(static_cast<size_t>(max_open_files > 0 ? max_open_files : 1), ShardBitsFor(max_open_files)) {
  options_.stats = &stats_;
}

TableCache::~TableCache() = default;

base::Status TableCache::FindTable(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                                   Cache::Handle** handle) {
  char key[8];
  base::EncodeFixed64(key, file_number);
  *handle = tables_.Lookup(std::string_view(key, sizeof key));
  if (*handle != nullptr) return base::Status::OK();
  const std::string path = TableFileName(db_dir_, file_number);
  if (options.no_io) return base::Status::Busy("sstable " + path + ": opening it needs I/O");
  std::unique_ptr<base::RandomAccessFile> file;
  KV_RETURN_IF_ERROR(env_->NewMappedRandomAccessFile(path, &file));  // tables never change
  std::unique_ptr<Table> table;
  // Errors are not cached: a later attempt retries (the file may be fixed).
  KV_RETURN_IF_ERROR(Table::Open(options_, std::move(file), file_size, file_number, block_cache_,
                                 "sstable " + path, &table));
  *handle = tables_.Insert(std::string_view(key, sizeof key), table.release(), 1, DeleteTable);
  return base::Status::OK();
}

std::unique_ptr<Iterator> TableCache::NewIterator(const ReadOptions& options, uint64_t file_number,
                                                  uint64_t file_size, const Table** table_out) {
  if (table_out != nullptr) *table_out = nullptr;
  Cache::Handle* handle = nullptr;
  base::Status s = FindTable(options, file_number, file_size, &handle);
  if (!s.ok()) return NewEmptyIterator(s);
  const auto* table = static_cast<const Table*>(Cache::Value(handle));
  auto iter = table->NewIterator(options);
  Cache* cache = &tables_;
  iter->RegisterCleanup([cache, handle] { cache->Release(handle); });
  if (table_out != nullptr) *table_out = table;
  return iter;
}

base::Status TableCache::Get(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                             std::string_view lookup_key, const EntryCallback& found) {
  Cache::Handle* handle = nullptr;
  KV_RETURN_IF_ERROR(FindTable(options, file_number, file_size, &handle));
  const auto* table = static_cast<const Table*>(Cache::Value(handle));
  base::Status s = table->InternalGet(options, lookup_key, found);
  tables_.Release(handle);
  return s;
}

uint64_t TableCache::ApproximateOffsetOf(uint64_t file_number, uint64_t file_size, std::string_view key) {
  Cache::Handle* handle = nullptr;
  if (!FindTable(ReadOptions(), file_number, file_size, &handle).ok()) return 0;
  uint64_t offset = static_cast<const Table*>(Cache::Value(handle))->ApproximateOffsetOf(key);
  tables_.Release(handle);
  return offset;
}

void TableCache::Evict(uint64_t file_number) {
  char key[8];
  base::EncodeFixed64(key, file_number);
  tables_.Erase(std::string_view(key, sizeof key));
}

}  // namespace kvring::lsm
