#include "repl/value_format.h"

#include <algorithm>
#include <cstdio>

#include "base/coding.h"

namespace kvring::repl {

namespace {

using Entry = VersionVector::Entry;

// flags, dot node index, dot lag (one byte each at least) and the timestamp.
constexpr size_t kMinSiblingBytes = 3 + 8;

base::Status Corrupt(const std::string& what) { return base::Status::Corruption("stored value: " + what); }

size_t IndexOf(const VersionVector& history, std::string_view node) {
  const Entry* e = history.Find(node);
  assert(e != nullptr);  // Invariant: the history names every dot and context node.
  return static_cast<size_t>(e - history.entries().data());
}

// True when `s.context` is the history with s's dot node set back to dot - 1.
bool IsHistoryBeforeDot(const VersionVector& history, const Sibling& s) {
  const std::vector<Entry>& ctx = s.context.entries();
  size_t k = 0;
  for (const Entry& e : history.entries()) {
    const uint64_t want = e.node == s.dot.node ? s.dot.counter - 1 : e.counter;
    if (want == 0) continue;
    if (k == ctx.size() || ctx[k].node != e.node || ctx[k].counter != want) return false;
    ++k;
  }
  return k == ctx.size();
}

void EncodeFullContext(const VersionVector& history, const VersionVector& context, std::string* dst) {
  base::PutVarint32(dst, static_cast<uint32_t>(context.size()));
  const std::vector<Entry>& h = history.entries();
  size_t i = 0;
  for (const Entry& e : context.entries()) {
    while (h[i].node < e.node) ++i;  // Invariant: context nodes are history nodes.
    assert(h[i].node == e.node && h[i].counter >= e.counter);
    base::PutVarint32(dst, static_cast<uint32_t>(i));
    base::PutVarint64(dst, h[i].counter - e.counter);
  }
}

void EncodeSibling(const VersionVector& history, const Sibling& s, std::string* dst) {
  const bool compact = IsHistoryBeforeDot(history, s);
  const uint8_t flags = (s.tombstone ? kSiblingTombstone : 0) | (compact ? 0 : kSiblingFullContext);
  dst->push_back(static_cast<char>(flags));
  const size_t index = IndexOf(history, s.dot.node);
  base::PutVarint32(dst, static_cast<uint32_t>(index));
  base::PutVarint64(dst, history.entries()[index].counter - s.dot.counter);
  base::PutFixed64(dst, s.timestamp_micros);
  if (!compact) EncodeFullContext(history, s.context, dst);
  if (!s.tombstone) base::PutLengthPrefixed(dst, s.value);
}

// Reads "index:varint32 lag:varint64" naming history entry `index` at counter
// (its counter - lag). Returns false on truncation or an index/lag out of range.
bool GetNodeCounter(std::string_view* input, const VersionVector& history, const Entry** entry,
                    uint64_t* counter) {
  uint32_t index;
  uint64_t lag;
  if (!base::GetVarint32(input, &index) || !base::GetVarint64(input, &lag)) return false;
  if (index >= history.size()) return false;
  *entry = &history.entries()[index];
  if (lag >= (*entry)->counter) return false;
  *counter = (*entry)->counter - lag;
  return true;
}

// "sibling N: <what>": built only on failure (the success path is hot).
base::Status SiblingCorrupt(size_t ordinal, const std::string& what) {
  return Corrupt("sibling " + std::to_string(ordinal) + ": " + what);
}

base::Status DecodeFullContext(std::string_view* input, const VersionVector& history, size_t ordinal,
                               VersionVector* context) {
  uint32_t count;
  if (!base::GetVarint32(input, &count)) return SiblingCorrupt(ordinal, "truncated context");
  std::vector<Entry> entries;
  entries.reserve(std::min<size_t>(count, history.size()));
  const Entry* previous = nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    const Entry* e;
    uint64_t counter;
    if (!GetNodeCounter(input, history, &e, &counter)) {
      return SiblingCorrupt(ordinal, "context entry " + std::to_string(i + 1) + " truncated or outside the history");
    }
    if (previous != nullptr && e <= previous) return SiblingCorrupt(ordinal, "context entries unsorted or repeated");
    entries.push_back(Entry{e->node, counter, 0});
    previous = e;
  }
  *context = VersionVector::FromSortedEntries(std::move(entries));
  return base::Status::OK();
}

// The compact form: the history with the dot's node set back to dot - 1.
VersionVector HistoryBeforeDot(const VersionVector& history, const Entry* dot_entry, uint64_t dot_counter) {
  std::vector<Entry> entries;
  entries.reserve(history.size());
  for (const Entry& e : history.entries()) {
    const uint64_t counter = &e == dot_entry ? dot_counter - 1 : e.counter;
    if (counter != 0) entries.push_back(Entry{e.node, counter, 0});
  }
  return VersionVector::FromSortedEntries(std::move(entries));
}

base::Status DecodeSibling(std::string_view* input, const VersionVector& history, size_t ordinal,
                           Sibling* s) {
  if (input->empty()) return SiblingCorrupt(ordinal, "truncated flags");
  const uint8_t flags = static_cast<uint8_t>((*input)[0]);
  input->remove_prefix(1);
  if ((flags & ~kSiblingKnownFlags) != 0) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned>(flags));
    return SiblingCorrupt(ordinal, std::string("unknown flag bits in flags ") + hex);
  }
  const Entry* dot_entry;
  if (!GetNodeCounter(input, history, &dot_entry, &s->dot.counter)) {
    return SiblingCorrupt(ordinal, "dot truncated or outside the history");
  }
  s->dot.node = dot_entry->node;
  if (!base::GetFixed64(input, &s->timestamp_micros)) return SiblingCorrupt(ordinal, "truncated timestamp");
  if (flags & kSiblingFullContext) {
    KV_RETURN_IF_ERROR(DecodeFullContext(input, history, ordinal, &s->context));
  } else {
    s->context = HistoryBeforeDot(history, dot_entry, s->dot.counter);
  }
  s->tombstone = (flags & kSiblingTombstone) != 0;
  if (!s->tombstone) {
    std::string_view value;
    if (!base::GetLengthPrefixed(input, &value)) return SiblingCorrupt(ordinal, "truncated value");
    s->value.assign(value.data(), value.size());
  }
  return base::Status::OK();
}

}  // namespace

void EncodeSiblingSet(const SiblingSet& set, std::string* dst) {
  dst->push_back(static_cast<char>(kValueFormatVersion));
  set.history().EncodeTo(dst);
  base::PutVarint32(dst, static_cast<uint32_t>(set.siblings().size()));
  for (const Sibling& s : set.siblings()) EncodeSibling(set.history(), s, dst);
}

std::string EncodeSiblingSet(const SiblingSet& set) {
  std::string out;
  EncodeSiblingSet(set, &out);
  return out;
}

base::Result<SiblingSet> DecodeSiblingSet(std::string_view bytes) {
  if (bytes.empty()) return Corrupt("empty");
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  if (version > kValueFormatVersion) {
    return base::Status::NotSupported("stored value: format version " + std::to_string(version) +
                                      " is newer than this node reads (" +
                                      std::to_string(kValueFormatVersion) + ")");
  }
  if (version != kValueFormatVersion) return Corrupt("bad format version " + std::to_string(version));
  std::string_view input = bytes.substr(1);
  VersionVector history;
  base::Status s = history.DecodeFrom(&input);
  if (!s.ok()) return Corrupt("history: " + s.message());
  uint32_t count;
  if (!base::GetVarint32(&input, &count)) return Corrupt("truncated sibling count");
  std::vector<Sibling> siblings;
  siblings.reserve(std::min<size_t>(count, input.size() / kMinSiblingBytes));
  for (uint32_t i = 0; i < count; ++i) {
    siblings.emplace_back();
    KV_RETURN_IF_ERROR(DecodeSibling(&input, history, i + 1, &siblings.back()));
  }
  if (!input.empty()) return Corrupt(std::to_string(input.size()) + " trailing bytes");
  base::Result<SiblingSet> set = SiblingSet::FromParts(std::move(history), std::move(siblings));
  if (!set.ok()) return Corrupt(set.status().message());
  return set;
}

}  // namespace kvring::repl
