// cmd/kvctl/repair_text.h — what kvctl repair and kvctl status print about a
// repair job and the last full comparison (repl::RepairProgress), and the
// parsing of --range.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/aae_messages.h"

namespace kvring::cmd::kvctl {

// "T1:T2" (decimal or 0x hex tokens): the ring range (T1, T2] as the prefix
// interval [T1 + 1, T2 + 1). InvalidArgument unless T1 < T2.
base::Status ParseTokenRange(std::string_view text, repl::PrefixInterval* interval);

// "n1 repair 3: 300/768 ranges, 1000 keys (0 sent, 1000 received), 195.3 KiB at
// 130.2 KiB/s, ETA 2 s" (running) or the summary (done, failed).
std::string ProgressLine(std::string_view node, const repl::RepairProgress& p);
// The summary at the end of --wait.
std::string RepairSummary(std::string_view node, const repl::RepairProgress& p);
// "2026-12-07T00:50:01.000Z (12 s ago): 0 ranges differed, 0 keys repaired", or
// "never" when no full comparison completed yet.
std::string LastFullText(const repl::RepairProgress& p, uint64_t now_wall_us);
// {"last_full": "...", "ranges_differing": n, "keys_repaired": n, "repair_job": n, "repair_state": "..."}
std::string LastFullJson(const repl::RepairProgress& p);

}  // namespace kvring::cmd::kvctl
