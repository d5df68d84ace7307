// cmd/kvbench/kvbench_main.h — kvbench's entry point, callable from tests:
// parses the flags, prints --help or a usage error, and runs the benchmark.
// Thread safety: call from one thread at a time.
#pragma once

#include <atomic>
#include <cstdio>

namespace kvring::cmd::kvbench {

// Returns the process exit code (0 done, 1 failed, 2 usage error or no target
// reachable, 130 interrupted). *interrupt may be null.
int KvbenchMain(int argc, char** argv, FILE* out, FILE* err, const std::atomic<bool>* interrupt);

}  // namespace kvring::cmd::kvbench
