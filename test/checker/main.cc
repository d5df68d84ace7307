// kvcheck — checks a recorded history file (docs/history.md) for consistency
// violations and prints a report:
//
//   build/kvcheck HISTORY [--json]      (HISTORY "-": standard input)
//
// Exit status: 0 when the history is clean, 1 when a violation was found, 2 when
// the file cannot be read or is malformed (the error names the line) or the
// command line is wrong.
// Thread safety: a single-threaded program.
#include <cstdio>
#include <string>
#include <string_view>

#include "test/util/history.h"
#include "test/util/history_checker.h"

namespace {

constexpr const char* kUsage =
    "usage: kvcheck HISTORY [--json]\n"
    "  Checks a history file (JSON lines, docs/history.md) against kvring's\n"
    "  versioning model and prints the violations found. HISTORY - reads\n"
    "  standard input.\n"
    "  --json   print the report as one JSON object\n"
    "exit status: 0 clean, 1 violations found, 2 unreadable or malformed history\n";

int Usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "kvcheck: %s\n", error);
  std::fputs(kUsage, error != nullptr ? stderr : stdout);
  return error != nullptr ? 2 : 0;
}

// The history on standard input ("-"), with errors named "stdin: line N: ...".
kvring::base::Result<kvring::test::History> ReadStdin() {
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) text.append(buf, n);
  if (std::ferror(stdin)) return kvring::base::Status::IOError("stdin: read failed");
  kvring::base::Result<kvring::test::History> h = kvring::test::ParseHistory(text);
  if (!h.ok()) return h.status().WithContext("stdin");
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--help" || arg == "-h") {
      return Usage(nullptr);
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      return Usage(("unknown flag " + std::string(arg)).c_str());
    } else if (path.empty()) {
      path = std::string(arg);
    } else {
      return Usage("one history file at a time");
    }
  }
  if (path.empty()) return Usage("missing the history file");

  kvring::base::Result<kvring::test::History> history =
      path == "-" ? ReadStdin() : kvring::test::ReadHistory(path);
  if (!history.ok()) {
    std::fprintf(stderr, "kvcheck: %s\n", history.status().message().c_str());
    return 2;
  }
  const kvring::test::CheckReport report = kvring::test::CheckHistory(*history);
  const std::string out = json ? kvring::test::ReportJson(report) : path + ": " + kvring::test::ReportText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report.clean() ? 0 : 1;
}
