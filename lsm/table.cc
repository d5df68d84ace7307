#include "lsm/table.h"

#include <algorithm>

#include "base/coding.h"
#include "lsm/dbformat.h"
#include "lsm/two_level_iterator.h"

namespace kvring::lsm {

struct Table::BlockRef {
  const Block* block = nullptr;
  Cache* cache = nullptr;
  Cache::Handle* handle = nullptr;  // set when the block is pinned in the cache
  std::unique_ptr<Block> owned;     // set when it is not

  BlockRef() = default;
  BlockRef(const BlockRef&) = delete;
  BlockRef& operator=(const BlockRef&) = delete;
  ~BlockRef() {
    if (handle != nullptr) cache->Release(handle);
  }
};

namespace {

constexpr size_t kCacheKeyBytes = 16;
// What a cached block costs beyond its bytes: the Block object and the cache's
// entry with its key. Charged so the budget bounds real memory.
constexpr size_t kCachedBlockOverheadBytes = sizeof(Block) + 80;

void EncodeCacheKey(char* buf, uint64_t cache_id, uint64_t offset) {
  base::EncodeFixed64(buf, cache_id);
  base::EncodeFixed64(buf + 8, offset);
}

void DeleteCachedBlock(std::string_view /*key*/, void* value) { delete static_cast<Block*>(value); }

void Bump(std::atomic<uint64_t>* counter, uint64_t n = 1) { counter->fetch_add(n, std::memory_order_relaxed); }

}  // namespace

Table::Table(const TableOptions& options, std::unique_ptr<base::RandomAccessFile> file, uint64_t file_size,
             uint64_t file_number, Cache* block_cache, std::string label)
    : options_(options),
      file_(std::move(file)),
      file_size_(file_size),
      file_number_(file_number),
      block_cache_(block_cache),
      cache_id_(block_cache != nullptr ? block_cache->NewId() : 0),
      label_(std::move(label)) {}

Table::~Table() {
  // Cached blocks of a mapped file point into the mapping, which dies with the
  // file: drop them from the cache first. No one holds them pinned now (block
  // handles are released before the table's own handle).
  if (block_cache_ == nullptr || file_->mapped().empty() || index_block_ == nullptr) return;
  BlockCursor index(index_block_.get());
  char key[kCacheKeyBytes];
  for (index.SeekToFirst(); index.Valid(); index.Next()) {
    BlockHandle handle;
    std::string_view value = index.value();
    if (!handle.DecodeFrom(&value)) break;
    EncodeCacheKey(key, cache_id_, handle.offset);
    block_cache_->Erase(std::string_view(key, kCacheKeyBytes));
  }
}

base::Status Table::Open(const TableOptions& options, std::unique_ptr<base::RandomAccessFile> file,
                         uint64_t file_size, uint64_t file_number, Cache* block_cache,
                         std::string path_for_messages, std::unique_ptr<Table>* table) {
  const std::string& label = path_for_messages;
  if (file_size < Footer::kEncodedLength) {
    return base::Status::Corruption(label + ": file too short (" + std::to_string(file_size) +
                                    " bytes) to be an sstable");
  }
  const uint64_t footer_offset = file_size - Footer::kEncodedLength;
  char buf[Footer::kEncodedLength];
  std::string_view got;
  base::Status s = file->Read(footer_offset, Footer::kEncodedLength, &got, buf);
  if (!s.ok()) return s.WithContext(label);
  if (got.size() != Footer::kEncodedLength) {
    return base::Status::Corruption(label + ": truncated file (footer at offset " + std::to_string(footer_offset) +
                                    " is short)");
  }
  Footer footer;
  s = footer.DecodeFrom(got);
  if (!s.ok()) {
    return base::Status(s.code(), label + ": " + s.message() + " (footer at offset " + std::to_string(footer_offset) + ")");
  }
  std::unique_ptr<Table> t(
      new Table(options, std::move(file), file_size, file_number, block_cache, std::move(path_for_messages)));
  KV_RETURN_IF_ERROR(t->ReadMetaBlocks(footer.index_handle, footer.filter_handle));
  *table = std::move(t);
  return base::Status::OK();
}

base::Status Table::CheckHandle(const BlockHandle& handle, std::string_view what) const {
  const uint64_t limit = file_size_ - Footer::kEncodedLength;
  if (handle.size > limit || handle.offset > limit - handle.size || limit - handle.size - handle.offset < kBlockTrailerBytes) {
    return base::Status::Corruption(label_ + ": " + std::string(what) + " handle (offset " +
                                    std::to_string(handle.offset) + ", size " + std::to_string(handle.size) +
                                    ") points outside the file of " + std::to_string(file_size_) + " bytes");
  }
  return base::Status::OK();
}

base::Status Table::ReadMetaBlocks(const BlockHandle& index, const BlockHandle& filter) {
  KV_RETURN_IF_ERROR(CheckHandle(index, "index block"));
  BlockContents contents;
  KV_RETURN_IF_ERROR(ReadBlock(*file_, label_, index, /*verify_checksum=*/true, &contents));
  index_block_ = std::make_unique<Block>(std::move(contents));
  if (!index_block_->well_formed()) {
    return base::Status::Corruption(label_ + ": malformed index block at offset " + std::to_string(index.offset));
  }
  index_offset_ = index.offset;
  data_end_ = index.offset;
  if (filter.size > 0) {
    KV_RETURN_IF_ERROR(CheckHandle(filter, "filter block"));
    KV_RETURN_IF_ERROR(ReadBlock(*file_, label_, filter, /*verify_checksum=*/true, &filter_data_));
    filter_ = BloomFilter(filter_data_.data);  // an unusable filter just answers "may contain"
    data_end_ = std::min(data_end_, filter.offset);
  }
  return base::Status::OK();
}

size_t Table::pinned_bytes() const {
  const size_t filter_bytes = filter_data_.heap != nullptr ? filter_data_.data.size() : 0;
  return index_block_->owned_bytes() + filter_bytes + sizeof(*this);
}

base::Status Table::DecodeIndexValue(std::string_view value, BlockHandle* handle) const {
  std::string_view input = value;
  if (!handle->DecodeFrom(&input)) {
    return base::Status::Corruption(label_ + ": bad block handle in index block at offset " + std::to_string(index_offset_));
  }
  return CheckHandle(*handle, "data block");
}

base::Status Table::IndexCorruption(const BlockCursor& cursor) const {
  return base::Status::Corruption(label_ + ": corrupt index block at offset " + std::to_string(index_offset_) +
                                  " (bad entry at block byte " + std::to_string(cursor.corrupt_offset()) + ")");
}

bool Table::InPlace(const BlockHandle& handle) const {
  const std::string_view mapped = file_->mapped();
  return !mapped.empty() && mapped.size() > handle.offset + handle.size &&
         static_cast<uint8_t>(mapped[handle.offset + handle.size]) == static_cast<uint8_t>(Compression::kNone);
}

base::Status Table::GetBlock(const ReadOptions& options, const BlockHandle& handle, bool for_scan,
                             BlockRef* ref) const {
  char key[kCacheKeyBytes];
  if (block_cache_ != nullptr) {
    EncodeCacheKey(key, cache_id_, handle.offset);
    if (Cache::Handle* h = block_cache_->Lookup(std::string_view(key, kCacheKeyBytes))) {
      ref->block = static_cast<const Block*>(Cache::Value(h));
      ref->cache = block_cache_;
      ref->handle = h;
      return base::Status::OK();
    }
  }
  if (options.no_io) {
    return base::Status::Busy(label_ + ": block at offset " + std::to_string(handle.offset) + " needs I/O");
  }
  const bool scan_in_place = for_scan && InPlace(handle);
  const bool cache_it = block_cache_ != nullptr && options.fill_cache && !scan_in_place;
  // Blocks entering the cache are always verified, and so are blocks a scan
  // reads in place (they skip the cache); others when asked.
  const bool verify = options.verify_checksums || cache_it || (scan_in_place && options.fill_cache);
  BlockContents contents;
  KV_RETURN_IF_ERROR(ReadBlock(*file_, label_, handle, verify, &contents));
  if (options_.stats != nullptr) {
    Bump(&options_.stats->blocks_read);
    Bump(&options_.stats->bytes_read, handle.size + kBlockTrailerBytes);
  }
  auto block = std::make_unique<Block>(std::move(contents));
  if (!block->well_formed()) {
    return base::Status::Corruption(label_ + ": malformed data block at offset " + std::to_string(handle.offset));
  }
  ref->block = block.get();
  if (cache_it) {
    // A block in place in a mapped file costs only its bookkeeping: the bytes
    // are the OS page cache's. Caching it still saves the checksum next time.
    const size_t charge = block->owned_bytes() + kCachedBlockOverheadBytes;
    ref->cache = block_cache_;
    // A scan's blocks wait at the cold end of the cache: a scan must not flush
    // the blocks point reads keep using.
    const auto priority = for_scan ? Cache::Priority::kLow : Cache::Priority::kHigh;
    ref->handle = block_cache_->Insert(std::string_view(key, kCacheKeyBytes), block.release(), charge,
                                       DeleteCachedBlock, priority);
  } else {
    ref->owned = std::move(block);
  }
  return base::Status::OK();
}

base::Status Table::InternalGet(const ReadOptions& options, std::string_view lookup_internal_key,
                                const EntryCallback& found) const {
  if (lookup_internal_key.size() < kInternalKeyTrailerBytes) {
    return base::Status::InvalidArgument("lookup key shorter than an internal key");
  }
  if (filter_.usable()) {
    const bool may_contain = filter_.MayContain(ExtractUserKey(lookup_internal_key));
    if (options_.stats != nullptr) {
      Bump(&options_.stats->bloom_checked);
      if (!may_contain) Bump(&options_.stats->bloom_useful);
    }
    if (!may_contain) return base::Status::OK();
  }
  BlockHandle handle;
  {
    BlockCursor index(index_block_.get());
    index.Seek(lookup_internal_key);
    if (!index.Valid()) return index.corrupt() ? IndexCorruption(index) : base::Status::OK();
    KV_RETURN_IF_ERROR(DecodeIndexValue(index.value(), &handle));
  }
  BlockRef ref;
  KV_RETURN_IF_ERROR(GetBlock(options, handle, /*for_scan=*/false, &ref));
  BlockCursor data(ref.block);
  data.Seek(lookup_internal_key);
  if (data.Valid()) {
    found(data.key(), data.value());
  } else if (data.corrupt()) {
    return base::Status::Corruption(label_ + ": corrupt block at offset " + std::to_string(handle.offset) +
                                    " (bad entry at block byte " + std::to_string(data.corrupt_offset()) + ")");
  }
  return base::Status::OK();
}

std::unique_ptr<Iterator> Table::NewBlockIterator(const ReadOptions& options, std::string_view index_value) const {
  BlockHandle handle;
  base::Status s = DecodeIndexValue(index_value, &handle);
  BlockRef ref;
  if (s.ok()) s = GetBlock(options, handle, /*for_scan=*/true, &ref);
  if (!s.ok()) return NewEmptyIterator(s);
  auto iter = ref.block->NewIterator(&label_, handle.offset);
  if (ref.handle != nullptr) {
    Cache* cache = ref.cache;
    Cache::Handle* h = ref.handle;
    ref.handle = nullptr;  // the iterator's cleanup releases it now
    iter->RegisterCleanup([cache, h] { cache->Release(h); });
  } else {
    Block* owned = ref.owned.release();
    iter->RegisterCleanup([owned] { delete owned; });
  }
  return iter;
}

std::unique_ptr<Iterator> Table::NewIterator(const ReadOptions& options) const {
  return NewTwoLevelIterator(index_block_->NewIterator(&label_, index_offset_),
                             [this, options](std::string_view index_value) {
                               return NewBlockIterator(options, index_value);
                             });
}

uint64_t Table::ApproximateOffsetOf(std::string_view key) const {
  if (key.size() < kInternalKeyTrailerBytes) return 0;
  BlockCursor index(index_block_.get());
  index.Seek(key);
  BlockHandle handle;
  std::string_view value = index.Valid() ? index.value() : std::string_view();
  if (index.Valid() && handle.DecodeFrom(&value)) return std::min(handle.offset, data_end_);
  return data_end_;
}

}  // namespace kvring::lsm
