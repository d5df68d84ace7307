// kvbench — kvring's load generator. Everything but the signal handling lives in
// the cmd/kvbench library (tests run it in-process); see docs/kvbench.md.
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "cmd/kvbench/kvbench_main.h"

namespace {
// Set by SIGINT/SIGTERM: the run stops issuing, drains and reports what it has.
std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return kvring::cmd::kvbench::KvbenchMain(argc, argv, stdout, stderr, &g_interrupted);
}
