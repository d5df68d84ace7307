#include "cmd/kvbench/kvbench_main.h"

#include "cmd/kvbench/bench_runner.h"
#include "cmd/kvbench/options.h"

namespace kvring::cmd::kvbench {

int KvbenchMain(int argc, char** argv, FILE* out, FILE* err, const std::atomic<bool>* interrupt) {
  auto options = ParseOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(err, "kvbench: %s\nRun 'kvbench --help' for the flags.\n", options.status().message().c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(HelpText().c_str(), out);
    return 0;
  }
  BenchRunner runner(std::move(options.value()), out, err, interrupt);
  return runner.Run();
}

}  // namespace kvring::cmd::kvbench
