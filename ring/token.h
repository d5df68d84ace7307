// ring/token.h — ring positions. A token is a 64-bit position on the ring; a key's
// token is XXH64 of its bytes (seed 0), which is also the first part of the engine's
// key order (see docs/ring.md and shared/DESIGN.md, "key order by token").
// On-disk meaning: changing TokenOf or VnodeToken moves data between versions;
// test/ring/golden_test.cc pins both.
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvring::ring {

using Token = uint64_t;
// A count of tokens: up to 2^64 (the full ring) and sums of such counts.
using TokenCount = unsigned __int128;

// The ring position of a key.
Token TokenOf(std::string_view key);

// The candidate position of virtual node `index` of node `node_id`: XXH64 of
// "<node_id>#<index>" (decimal index). Distinct (id, index) pairs give distinct
// texts, even for ids containing '#': the index is the digits after the last '#'.
Token VnodeToken(std::string_view node_id, uint32_t index);

// The half-open arc (start, end] walked clockwise, wrapping past 2^64-1 to 0 when
// end <= start. start == end is the whole ring (a ring with a single virtual node).
struct TokenRange {
  Token start = 0;  // exclusive
  Token end = 0;    // inclusive

  bool full() const { return start == end; }
  // True when the arc passes 2^64-1 → 0; then it is two contiguous scans of the
  // token-ordered engine: (start, 2^64-1] and [0, end].
  bool wraps() const { return end <= start; }
  bool Contains(Token t) const;
  // Number of tokens in the arc; 0 stands for 2^64 (the full ring).
  uint64_t width() const { return end - start; }
  // Number of tokens in the arc, 2^64 for the full ring.
  TokenCount span() const { return full() ? TokenCount{1} << 64 : TokenCount{width()}; }
  // Share of the token space in [0, 1].
  double Fraction() const;
  // "(0x..., 0x...]".
  std::string ToString() const;

  friend bool operator==(const TokenRange&, const TokenRange&) = default;
};

// Share of the token space covered by `width` tokens (width 0 = none).
double TokenFraction(uint64_t width);

// Appends `range` to `ranges` (arcs in token order), merging it into the last arc
// when the two touch.
void AppendMergedRange(std::vector<TokenRange>* ranges, const TokenRange& range);
// Joins the last arc into the first when they meet across the wrap point 2^64-1 → 0.
void CloseWrap(std::vector<TokenRange>* ranges);

}  // namespace kvring::ring
