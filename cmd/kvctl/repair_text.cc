#include "cmd/kvctl/repair_text.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cmd/common/text.h"

namespace kvring::cmd::kvctl {

using base::Status;

namespace {

bool ParseToken(const std::string& text, uint64_t* v) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoull(text.c_str(), &end, 0);
  return errno == 0 && *end == '\0' && text[0] != '-';
}

std::string Counts(const repl::RepairProgress& p) {
  const double secs = static_cast<double>(p.elapsed_us) / 1e6;
  const double bytes = static_cast<double>(p.bytes_sent + p.bytes_received);
  return std::to_string(p.ranges_done) + "/" + std::to_string(p.ranges_total) + " ranges (" +
         std::to_string(p.ranges_differing) + " differed, " + std::to_string(p.leaves_differing) + " leaves), " +
         std::to_string(p.keys_sent + p.keys_received) + " keys (" + std::to_string(p.keys_sent) + " sent, " +
         std::to_string(p.keys_received) + " received), " + FormatBytes(bytes) + " exchanged at " +
         FormatBytes(secs > 0 ? bytes / secs : 0) + "/s";
}

}  // namespace

Status ParseTokenRange(std::string_view text, repl::PrefixInterval* interval) {
  const size_t colon = text.find(':');
  uint64_t t1 = 0, t2 = 0;
  if (colon == std::string_view::npos || !ParseToken(std::string(text.substr(0, colon)), &t1) ||
      !ParseToken(std::string(text.substr(colon + 1)), &t2)) {
    return Status::InvalidArgument("--range '" + std::string(text) + "' is not T1:T2 (two tokens, decimal or 0x hex)");
  }
  if (t1 >= t2) {
    return Status::InvalidArgument("--range " + std::string(text) +
                                   ": T1 must be below T2 (a range across 2^64 is two repairs)");
  }
  *interval = {t1 + 1, t2 + 1};
  return Status::OK();
}

std::string ProgressLine(std::string_view node, const repl::RepairProgress& p) {
  if (p.state != repl::RepairState::kRunning) return RepairSummary(node, p);
  std::string line = std::string(node) + " repair " + std::to_string(p.job) + ": " + Counts(p);
  if (p.ranges_done > 0 && p.ranges_done < p.ranges_total) {
    const double eta = static_cast<double>(p.elapsed_us) / 1e6 * static_cast<double>(p.ranges_total - p.ranges_done) /
                       static_cast<double>(p.ranges_done);
    line += ", ETA " + FormatSeconds(eta);
  }
  if (!p.detail.empty()) line += " [" + p.detail + "]";
  return line;
}

std::string RepairSummary(std::string_view node, const repl::RepairProgress& p) {
  std::string line = std::string(node) + " repair " + std::to_string(p.job) + " " + repl::RepairStateName(p.state) +
                     " in " + FormatSeconds(static_cast<double>(p.elapsed_us) / 1e6) + ": " + Counts(p);
  if (!p.detail.empty()) line += " [" + p.detail + "]";
  return line;
}

std::string LastFullText(const repl::RepairProgress& p, uint64_t now_wall_us) {
  if (p.last_full_wall_us == 0) return "never";
  const uint64_t ago = now_wall_us > p.last_full_wall_us ? now_wall_us - p.last_full_wall_us : 0;
  return FormatWallMicros(p.last_full_wall_us) + " (" + FormatSeconds(static_cast<double>(ago) / 1e6) +
         " ago): " + std::to_string(p.last_full_ranges_differing) + " ranges differed, " +
         std::to_string(p.last_full_keys_repaired) + " keys repaired";
}

std::string LastFullJson(const repl::RepairProgress& p) {
  const std::string when = p.last_full_wall_us == 0 ? "null" : JsonString(FormatWallMicros(p.last_full_wall_us));
  return "{\"last_full\": " + when + ", \"ranges_differing\": " + std::to_string(p.last_full_ranges_differing) +
         ", \"keys_repaired\": " + std::to_string(p.last_full_keys_repaired) + ", \"repair_job\": " +
         std::to_string(p.job) + ", \"repair_state\": " + JsonString(repl::RepairStateName(p.state)) + "}";
}

}  // namespace kvring::cmd::kvctl
