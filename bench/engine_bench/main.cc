// bench/engine_bench — a db_bench-style driver for kvring's storage engine and its
// peers (LevelDB, RocksDB), printing one LevelDB-style line per benchmark:
//   fillrandom   :       2.345 micros/op   426439 ops/sec;    47.2 MB/s
// Usage and examples: bench/README.md.
#include <cstdio>
#include <cstdlib>

#include "bench/engine_bench/flags.h"
#include "bench/engine_bench/store.h"
#include "bench/engine_bench/workload.h"

namespace kvring::bench {

void Die(const std::string& what) {
  std::fprintf(stderr, "engine_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace kvring::bench

int main(int argc, char** argv) {
  kvring::bench::Flags flags;
  if (!kvring::bench::ParseFlags(argc, argv, &flags)) return 2;
  kvring::bench::Runner runner(flags);
  return runner.Run();
}
