#include "cmd/kvctl/membership_text.h"

#include "cmd/common/text.h"

namespace kvring::cmd::kvctl {

namespace {

std::string Name(std::string_view node, const repl::MembershipProgress& p) {
  std::string name = std::string(node) + " " + repl::OperationKindName(p.kind);
  if (!p.target.empty()) name += " of " + p.target;
  return name;
}

std::string Totals(const repl::MembershipProgress& p) {
  return std::to_string(p.streams.size()) + " ranges, " + std::to_string(p.keys()) + " keys, " +
         FormatBytes(static_cast<double>(p.bytes()));
}

uint64_t BytesAgain(const repl::MembershipProgress& p) {
  uint64_t n = 0;
  for (const auto& s : p.streams) n += s.bytes_again;
  return n;
}

}  // namespace

std::string MembershipLine(std::string_view node, const repl::MembershipProgress& p) {
  const double secs = static_cast<double>(p.elapsed_us) / 1e6;
  switch (p.state) {
    case repl::OperationState::kNone:
      return std::string(node) + ": no membership operation has run here";
    case repl::OperationState::kDone:
      return Name(node, p) + " done: " + Totals(p) + " (" + FormatBytes(static_cast<double>(BytesAgain(p))) +
             " streamed again)";
    case repl::OperationState::kFailed:
      return Name(node, p) + " failed: " + p.detail;
    case repl::OperationState::kAnnouncing:
      return Name(node, p) + ": " + (p.detail.empty() ? "announcing" : p.detail);
    case repl::OperationState::kStreaming:
      break;
  }
  const size_t done = p.streams_done(), total = p.streams.size();
  const double bytes = static_cast<double>(p.bytes());
  std::string line = Name(node, p) + ": streaming " + std::to_string(done) + "/" + std::to_string(total) +
                     " ranges, " + std::to_string(p.keys()) + " keys, " + FormatBytes(bytes) + " at " +
                     FormatBytes(secs > 0 ? bytes / secs : 0) + "/s";
  if (done > 0 && done < total) {
    line += ", ETA " + FormatSeconds(secs * static_cast<double>(total - done) / static_cast<double>(done));
  }
  if (!p.detail.empty()) line += " [" + p.detail + "]";
  return line;
}

std::string StreamsText(std::string_view node, const repl::MembershipProgress& p) {
  std::string text = MembershipLine(node, p) + "\n";
  for (const repl::StreamProgress& s : p.streams) {
    text += "  " + s.range.ToString() + " " + (s.source.empty() ? "?" : s.source) + " -> " + s.destination + ": " +
            std::to_string(s.keys) + " keys, " + FormatBytes(static_cast<double>(s.bytes));
    if (s.bytes_again > 0) text += " (" + FormatBytes(static_cast<double>(s.bytes_again)) + " again)";
    text += s.done ? ", done\n" : ", streaming\n";
  }
  return text;
}

}  // namespace kvring::cmd::kvctl
