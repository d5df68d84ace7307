// repl/repair_state.h — what a repair job (kvctl repair) has done, as kept in
// DATA/repair so a job interrupted by a crash or a restart resumes where it was
// (docs/formats/repair.md): the request, the ranges finished with each peer, the
// counters so far, and the last completed full comparison.
//
//   file := magic "KVREPAIR" version:u8 (=1) body crc:fixed32
//   body := job:varint64 state:u8 started_wall_us:varint64 peer:lp has_range:u8
//           [begin:fixed64 end:fixed64] ranges_total:varint64 ranges_differing:varint64
//           leaves_differing:varint64 keys_sent:varint64 keys_received:varint64
//           bytes_sent:varint64 bytes_received:varint64 elapsed_us:varint64
//           last_full_wall_us:varint64 last_full_ranges_differing:varint64
//           last_full_keys_repaired:varint64 count:varint32 (peer:lp range_end:fixed64){count}
//   crc := masked CRC32C (base/crc32c.h) of magic, version and body
//
// A range is named by its peer and the token it ends at (ring::TokenRange::end):
// stable while the ring is, and a range of a changed ring is simply compared again.
// Thread safety: a value type; the functions are pure (Save/Load do file I/O).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/env.h"
#include "base/status.h"
#include "repl/aae_messages.h"

namespace kvring::repl {

inline constexpr char kRepairFileName[] = "repair";

struct RepairJobState {
  RepairProgress progress;       // detail is not kept
  RepairRequest request;
  std::set<std::pair<std::string, uint64_t>> done;  // (peer, range end token)
  friend bool operator==(const RepairJobState&, const RepairJobState&) = default;
};

std::string EncodeRepairJobState(const RepairJobState& state);
// Corruption naming what is wrong (bad magic, version, checksum, truncated field).
base::Status DecodeRepairJobState(std::string_view bytes, RepairJobState* state);

// Written atomically (a temporary file, fsync, rename, fsync of the directory).
base::Status SaveRepairJobState(base::Env* env, const std::string& path, const RepairJobState& state);
// NotFound when there is no file.
base::Status LoadRepairJobState(base::Env* env, const std::string& path, RepairJobState* state);

}  // namespace kvring::repl
