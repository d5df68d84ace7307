#include "lsm/compaction.h"

#include <algorithm>
#include <set>

#include "lsm/version.h"

namespace kvring::lsm {

uint64_t MaxBytesForLevel(const Options& options, int level) {
  uint64_t bytes = options.max_bytes_level1;
  for (int l = 1; l < level; l++) bytes *= static_cast<uint64_t>(std::max(2, options.level_size_ratio));
  return bytes;
}

uint64_t MaxGrandparentOverlapBytes(const Options& options) { return 10 * options.target_file_bytes; }
uint64_t ExpandedCompactionByteSizeLimit(const Options& options) { return 25 * options.target_file_bytes; }

uint64_t TotalFileBytes(const std::vector<FileRef>& files) {
  uint64_t total = 0;
  for (const FileRef& f : files) total += f->file_size;
  return total;
}

Compaction::Compaction(const Options& options, std::shared_ptr<const Version> input_version, int level,
                       int output_level)
    : options_(options),
      input_version_(std::move(input_version)),
      level_(level),
      output_level_(output_level),
      level_ptrs_(static_cast<size_t>(options.num_levels), 0) {}

uint64_t Compaction::max_output_file_bytes() const { return options_.target_file_bytes; }

bool Compaction::IsTrivialMove() const {
  return !manual_ && inputs_[0].size() == 1 && inputs_[1].empty() &&
         TotalFileBytes(grandparents_) <= MaxGrandparentOverlapBytes(options_);
}

void Compaction::AddInputDeletions(VersionEdit* edit) const {
  for (int which = 0; which < 2; which++) {
    for (const FileRef& f : inputs_[which]) edit->RemoveFile(which == 0 ? level_ : output_level_, f->number);
  }
}

bool Compaction::IsBaseLevelForKey(std::string_view user_key) {
  for (int level = output_level() + 1; level < input_version_->num_levels(); level++) {
    const auto& files = input_version_->files(level);
    size_t& ptr = level_ptrs_[static_cast<size_t>(level)];
    while (ptr < files.size()) {
      const FileMetaData& f = *files[ptr];
      if (user_key.compare(ExtractUserKey(f.largest)) <= 0) {
        if (user_key.compare(ExtractUserKey(f.smallest)) >= 0) return false;  // key falls in this file
        break;
      }
      ptr++;
    }
  }
  return true;
}

bool Compaction::ShouldStopBefore(std::string_view internal_key) {
  while (grandparent_index_ < grandparents_.size() &&
         InternalKeyCompare(internal_key, grandparents_[grandparent_index_]->largest) > 0) {
    if (seen_key_) overlapped_bytes_ += grandparents_[grandparent_index_]->file_size;
    grandparent_index_++;
  }
  seen_key_ = true;
  if (overlapped_bytes_ > MaxGrandparentOverlapBytes(options_)) {
    overlapped_bytes_ = 0;
    return true;
  }
  return false;
}

std::string Compaction::DebugString() const {
  std::string r = "L" + std::to_string(level_) + "->L" + std::to_string(output_level()) + " [";
  for (int which = 0; which < 2; which++) {
    for (const FileRef& f : inputs_[which]) r += " " + std::to_string(f->number);
    if (which == 0) r += " |";
  }
  return r + " ]";
}

namespace {

// The user-key range covered by files (REQUIRES: not empty).
void GetRange(const std::vector<FileRef>& files, std::string_view* smallest, std::string_view* largest) {
  *smallest = ExtractUserKey(files[0]->smallest);
  *largest = ExtractUserKey(files[0]->largest);
  for (const FileRef& f : files) {
    if (ExtractUserKey(f->smallest).compare(*smallest) < 0) *smallest = ExtractUserKey(f->smallest);
    if (ExtractUserKey(f->largest).compare(*largest) > 0) *largest = ExtractUserKey(f->largest);
  }
}

void GetRange2(const std::vector<FileRef>& a, const std::vector<FileRef>& b, std::string_view* smallest,
               std::string_view* largest) {
  std::vector<FileRef> all = a;
  all.insert(all.end(), b.begin(), b.end());
  GetRange(all, smallest, largest);
}

// Fills the output-level inputs, widens the input level when that is free, and
// records the grandparents. inputs(0) is set.
void SetupOtherInputs(const Options& options, Compaction* c) {
  const Version& v = *c->input_version();
  const int level = c->level();
  std::string_view smallest, largest;
  GetRange(c->inputs(0), &smallest, &largest);
  v.GetOverlappingInputs(level + 1, &smallest, &largest, c->mutable_inputs(1));

  std::string_view all_start, all_limit;
  GetRange2(c->inputs(0), c->inputs(1), &all_start, &all_limit);
  if (!c->inputs(1).empty()) {
    std::vector<FileRef> expanded0;
    v.GetOverlappingInputs(level, &all_start, &all_limit, &expanded0);
    if (expanded0.size() > c->inputs(0).size() &&
        TotalFileBytes(expanded0) + TotalFileBytes(c->inputs(1)) < ExpandedCompactionByteSizeLimit(options)) {
      std::string_view new_start, new_limit;
      GetRange(expanded0, &new_start, &new_limit);
      std::vector<FileRef> expanded1;
      v.GetOverlappingInputs(level + 1, &new_start, &new_limit, &expanded1);
      if (expanded1.size() == c->inputs(1).size()) {
        *c->mutable_inputs(0) = std::move(expanded0);
        *c->mutable_inputs(1) = std::move(expanded1);
        GetRange2(c->inputs(0), c->inputs(1), &all_start, &all_limit);
      }
    }
  }
  if (level + 2 < v.num_levels()) v.GetOverlappingInputs(level + 2, &all_start, &all_limit, c->mutable_grandparents());
}

}  // namespace

std::unique_ptr<Compaction> PickCompaction(const Options& options, const std::shared_ptr<const Version>& version,
                                           std::vector<std::string>* compact_pointers) {
  if (version->compaction_score() < 1) return nullptr;
  const int level = version->compaction_level();
  auto c = std::make_unique<Compaction>(options, version, level);
  const auto& files = version->files(level);
  if (files.empty()) return nullptr;
  // Round-robin: the first file past the level's compaction pointer.
  const std::string& pointer = (*compact_pointers)[static_cast<size_t>(level)];
  FileRef chosen = files[0];
  if (level > 0 && !pointer.empty()) {
    for (const FileRef& f : files) {
      if (InternalKeyCompare(f->largest, pointer) > 0) {
        chosen = f;
        break;
      }
    }
  } else if (level == 0) {
    chosen = files.back();  // the oldest L0 file
  }
  c->mutable_inputs(0)->push_back(chosen);
  if (level == 0) {
    std::string_view smallest, largest;
    GetRange(c->inputs(0), &smallest, &largest);
    version->GetOverlappingInputs(0, &smallest, &largest, c->mutable_inputs(0));
  }
  SetupOtherInputs(options, c.get());
  std::string_view smallest, largest;
  GetRange2(c->inputs(0), c->inputs(1), &smallest, &largest);
  // The pointer is the largest internal key of the level-n inputs.
  std::string largest_key = c->inputs(0)[0]->largest;
  for (const FileRef& f : c->inputs(0)) {
    if (InternalKeyCompare(f->largest, largest_key) > 0) largest_key = f->largest;
  }
  (*compact_pointers)[static_cast<size_t>(level)] = largest_key;
  c->edit()->SetCompactPointer(level, largest_key);
  return c;
}

std::unique_ptr<Compaction> PickRangeCompaction(const Options& options, const std::shared_ptr<const Version>& version,
                                                int level, const std::string* begin, const std::string* end) {
  std::string_view b = begin != nullptr ? std::string_view(*begin) : std::string_view();
  std::string_view e = end != nullptr ? std::string_view(*end) : std::string_view();
  std::vector<FileRef> inputs;
  version->GetOverlappingInputs(level, begin != nullptr ? &b : nullptr, end != nullptr ? &e : nullptr, &inputs);
  if (inputs.empty()) return nullptr;
  // Above L0, do a bounded step at a time; the caller loops until nothing is left.
  if (level > 0) {
    const uint64_t limit = ExpandedCompactionByteSizeLimit(options);
    uint64_t total = 0;
    for (size_t i = 0; i < inputs.size(); i++) {
      total += inputs[i]->file_size;
      if (total >= limit) {
        inputs.resize(i + 1);
        break;
      }
    }
  }
  auto c = std::make_unique<Compaction>(options, version, level);
  c->set_manual(true);
  *c->mutable_inputs(0) = std::move(inputs);
  SetupOtherInputs(options, c.get());
  return c;
}

namespace {

bool HoldsTombstonesFor(const FileMetaData& f, const TombstoneRequest& r) {
  return f.tombstones > 0 && f.oldest_tombstone <= r.sequence &&
         ExtractUserKey(f.largest).compare(r.begin) >= 0 && ExtractUserKey(f.smallest).compare(r.end) <= 0;
}

int DeepestLevelWithFiles(const Version& v) {
  int deepest = 1;
  for (int level = 1; level < v.num_levels(); level++) {
    if (v.NumFiles(level) > 0) deepest = level;
  }
  return deepest;
}

}  // namespace

std::unique_ptr<Compaction> PickTombstoneCompaction(const Options& options,
                                                    const std::shared_ptr<const Version>& version,
                                                    const TombstoneRequest& request) {
  const int deepest = DeepestLevelWithFiles(*version);
  for (int level = 0; level <= deepest; level++) {
    for (const FileRef& f : version->files(level)) {
      if (!HoldsTombstonesFor(*f, request)) continue;
      if (level == deepest && f->filter_epoch >= request.epoch) continue;
      const int output = level == deepest ? level : level + 1;
      auto c = std::make_unique<Compaction>(options, version, level, output);
      c->set_manual(true);
      c->mutable_inputs(0)->push_back(f);
      if (level == 0) {
        std::string_view smallest, largest;
        GetRange(c->inputs(0), &smallest, &largest);
        version->GetOverlappingInputs(0, &smallest, &largest, c->mutable_inputs(0));
      }
      if (output != level) SetupOtherInputs(options, c.get());
      return c;
    }
  }
  return nullptr;
}

namespace {

// Whether table f may hold an entry of a fragment at sequence, epoch.
bool MayHoldFor(const FileMetaData& f, SequenceNumber sequence, uint64_t epoch) {
  return f.smallest_seq <= sequence && f.range_epoch < epoch;
}

// A fragment covers f's entries whole: f lies inside it, and no entry is newer.
bool CoveredWhole(const FileMetaData& f, const RangeDeletions& deletions) {
  const RangeDeletions::Span span = deletions.SpanOf(ExtractUserKey(f.smallest));
  return span.sequence != 0 && f.largest_seq <= span.sequence && BeforeEnd(ExtractUserKey(f.largest), span.end);
}

std::unique_ptr<Compaction> PickCoveredFiles(const Options& options, const std::shared_ptr<const Version>& version,
                                             const RangeDeletions& deletions) {
  auto c = std::make_unique<Compaction>(options, version, 0, 0);
  c->set_drops_files(true);
  for (int level = 0; level < version->num_levels(); level++) {
    for (const FileRef& f : version->files(level)) {
      if (!CoveredWhole(*f, deletions)) continue;
      c->edit()->RemoveFile(level, f->number);
      c->mutable_inputs(0)->push_back(f);
    }
  }
  return c->inputs(0).empty() ? nullptr : std::move(c);
}

std::unique_ptr<Compaction> RewriteCompaction(const Options& options, const std::shared_ptr<const Version>& version,
                                              int level, const FileRef& f) {
  auto c = std::make_unique<Compaction>(options, version, level, level == 0 ? 1 : level);
  c->set_manual(true);
  c->mutable_inputs(0)->push_back(f);
  if (level > 0) return c;
  std::string_view smallest, largest;
  GetRange(c->inputs(0), &smallest, &largest);
  version->GetOverlappingInputs(0, &smallest, &largest, c->mutable_inputs(0));
  SetupOtherInputs(options, c.get());
  return c;
}

}  // namespace

bool MayHoldRangeDeleted(const FileMetaData& f, const RangeDeletions& deletions) {
  bool holds = false;
  deletions.ForEachOverlapping(ExtractUserKey(f.smallest), ExtractUserKey(f.largest),
                               [&](const std::string&, SequenceNumber sequence, uint64_t epoch) {
                                 holds = holds || MayHoldFor(f, sequence, epoch);
                               });
  return holds;
}

std::unique_ptr<Compaction> PickRangeDeletionCompaction(const Options& options,
                                                        const std::shared_ptr<const Version>& version,
                                                        const RangeDeletions& deletions) {
  if (deletions.empty()) return nullptr;
  if (auto c = PickCoveredFiles(options, version, deletions)) return c;
  for (int level = 0; level < version->num_levels(); level++) {
    for (const FileRef& f : version->files(level)) {
      if (MayHoldRangeDeleted(*f, deletions)) return RewriteCompaction(options, version, level, f);
    }
  }
  return nullptr;
}

std::vector<std::string> ObsoleteRangeDeletions(const Version& version, const RangeDeletions& deletions,
                                                SequenceNumber oldest_memtable_sequence) {
  std::set<std::string> needed;
  for (int level = 0; level < version.num_levels(); level++) {
    for (const FileRef& f : version.files(level)) {
      deletions.ForEachOverlapping(ExtractUserKey(f->smallest), ExtractUserKey(f->largest),
                                   [&](const std::string& begin, SequenceNumber sequence, uint64_t epoch) {
                                     if (MayHoldFor(*f, sequence, epoch)) needed.insert(begin);
                                   });
    }
  }
  std::vector<std::string> obsolete;
  for (const RangeDeletions::Fragment& g : deletions.Fragments()) {
    if (g.sequence < oldest_memtable_sequence && needed.count(g.begin) == 0) obsolete.push_back(g.begin);
  }
  return obsolete;
}

}  // namespace kvring::lsm
