#include "bench/engine_bench/flags.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace kvring::bench {

namespace {

constexpr char kUsage[] =
    "usage: engine_bench [--engine=kvring|leveldb|rocksdb] [--benchmarks=a,b,...]\n"
    "         [--num=N] [--reads=N] [--sync_num=N] [--value_size=B] [--threads=T] [--db=DIR]\n"
    "         [--cache_size=BYTES] [--data_to_cache=R] [--bloom_bits=B] [--write_buffer_size=BYTES]\n"
    "         [--sync_mode=none|interval|always] [--use_existing_db=0|1] [--stats=0|1] [--seed=S]\n"
    "         [--merkle_bits=0..20 (kvring)]\n"
    "benchmarks: fillseq fillsync fillrandom overwrite readrandom readmissing readseq\n";

bool Match(const char* arg, const char* name, const char** value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *value = arg + n + 1;
  return true;
}

bool ParseInt(const char* name, const char* s, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0') {
    std::fprintf(stderr, "engine_bench: %s wants an integer, got '%s'\n", name, s);
    return false;
  }
  *out = v;
  return true;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int64_t Flags::EffectiveCacheSize() const {
  if (data_to_cache > 0) return static_cast<int64_t>(num * (16 + static_cast<uint64_t>(value_size)) / data_to_cache);
  return cache_size;
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = nullptr;
    int64_t n = 0;
    bool ok = true;
    if (Match(a, "--engine", &v)) {
      f->engine = v;
    } else if (Match(a, "--benchmarks", &v)) {
      f->benchmarks = SplitList(v);
    } else if (Match(a, "--db", &v)) {
      f->db = v;
    } else if (Match(a, "--sync_mode", &v)) {
      f->sync_mode = v;
    } else if (Match(a, "--num", &v)) {
      ok = ParseInt("--num", v, &n) && n > 0;
      f->num = static_cast<uint64_t>(n);
    } else if (Match(a, "--reads", &v)) {
      ok = ParseInt("--reads", v, &f->reads);
    } else if (Match(a, "--sync_num", &v)) {
      ok = ParseInt("--sync_num", v, &n) && n > 0;
      f->sync_num = static_cast<uint64_t>(n);
    } else if (Match(a, "--value_size", &v)) {
      ok = ParseInt("--value_size", v, &n) && n > 0 && n <= (1 << 24);
      f->value_size = static_cast<int>(n);
    } else if (Match(a, "--threads", &v)) {
      ok = ParseInt("--threads", v, &n) && n > 0 && n <= 1024;
      f->threads = static_cast<int>(n);
    } else if (Match(a, "--cache_size", &v)) {
      ok = ParseInt("--cache_size", v, &f->cache_size);
    } else if (Match(a, "--data_to_cache", &v)) {
      ok = ParseInt("--data_to_cache", v, &n) && n >= 0;
      f->data_to_cache = static_cast<int>(n);
    } else if (Match(a, "--bloom_bits", &v)) {
      ok = ParseInt("--bloom_bits", v, &n);
      f->bloom_bits = static_cast<int>(n);
    } else if (Match(a, "--write_buffer_size", &v)) {
      ok = ParseInt("--write_buffer_size", v, &f->write_buffer_size);
    } else if (Match(a, "--use_existing_db", &v)) {
      ok = ParseInt("--use_existing_db", v, &n);
      f->use_existing_db = n != 0;
    } else if (Match(a, "--stats", &v)) {
      ok = ParseInt("--stats", v, &n);
      f->stats = n != 0;
    } else if (Match(a, "--merkle_bits", &v)) {
      ok = ParseInt("--merkle_bits", v, &n) && n >= 0 && n <= 20;
      f->merkle_bits = static_cast<int>(n);
    } else if (Match(a, "--seed", &v)) {
      ok = ParseInt("--seed", v, &n);
      f->seed = static_cast<uint64_t>(n);
    } else {
      std::fprintf(stderr, "engine_bench: unknown flag %s\n%s", a, kUsage);
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "engine_bench: bad value in %s\n%s", a, kUsage);
      return false;
    }
  }
  if (f->engine != "kvring" && f->engine != "leveldb" && f->engine != "rocksdb") {
    std::fprintf(stderr, "engine_bench: unknown engine %s\n%s", f->engine.c_str(), kUsage);
    return false;
  }
  if (f->sync_mode != "none" && f->sync_mode != "interval" && f->sync_mode != "always") {
    std::fprintf(stderr, "engine_bench: --sync_mode is none, interval or always\n");
    return false;
  }
  return true;
}

}  // namespace kvring::bench
