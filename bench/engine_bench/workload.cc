#include "bench/engine_bench/workload.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <latch>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/random.h"

namespace kvring::bench {

void FormatKey(uint64_t i, char* buf) {
  for (int pos = kKeyBytes - 1; pos >= 0; --pos) {
    buf[pos] = static_cast<char>('0' + i % 10);
    i /= 10;
  }
}

void FormatMissingKey(uint64_t i, char* buf) {
  uint64_t v = i / 10;
  for (int pos = kKeyBytes - 2; pos >= 0; --pos) {
    buf[pos] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  buf[kKeyBytes - 1] = '.';
}

ValueSource::ValueSource(uint64_t seed) {
  base::Random rnd(seed);
  while (data_.size() < (1u << 20)) {
    std::string piece = rnd.RandomString(50);
    data_ += piece;  // 50 random bytes, then the same 50 again: ~2:1 compressible
    data_ += piece;
  }
}

std::string_view ValueSource::Get(int thread, uint64_t i, int len) const {
  const size_t span = data_.size() - static_cast<size_t>(len);
  const size_t pos = (static_cast<size_t>(thread) * 7919 + i * static_cast<size_t>(len)) % span;
  return std::string_view(data_.data() + pos, static_cast<size_t>(len));
}

namespace {

struct ThreadResult {
  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t found = 0;
};

using WorkFn = std::function<void(int thread, ThreadResult* result)>;

double NowMicros() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs fn on `threads` threads started together; returns the wall time in µs.
double RunThreads(int threads, const WorkFn& fn, ThreadResult* total) {
  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::latch ready(threads), go(1);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.count_down();
      go.wait();
      fn(t, &results[static_cast<size_t>(t)]);
    });
  }
  ready.wait();
  const double start = NowMicros();
  go.count_down();
  for (auto& w : workers) w.join();
  const double micros = NowMicros() - start;
  for (const auto& r : results) {
    total->ops += r.ops;
    total->bytes += r.bytes;
    total->found += r.found;
  }
  return micros;
}

// Thread t's share [begin, end) of n operations.
std::pair<uint64_t, uint64_t> Slice(uint64_t n, int threads, int t) {
  const uint64_t per = n / static_cast<uint64_t>(threads);
  const uint64_t begin = per * static_cast<uint64_t>(t);
  return {begin, t == threads - 1 ? n : begin + per};
}

void Report(const std::string& name, uint64_t ops, double micros, uint64_t bytes, const std::string& extra) {
  const double us_op = ops > 0 ? micros / static_cast<double>(ops) : 0;
  const double ops_s = micros > 0 ? static_cast<double>(ops) / (micros / 1e6) : 0;
  const double mb_s = micros > 0 ? static_cast<double>(bytes) / 1048576.0 / (micros / 1e6) : 0;
  std::printf("%-12s : %11.3f micros/op %9.0f ops/sec; %7.1f MB/s%s\n", name.c_str(), us_op, ops_s, mb_s, extra.c_str());
  std::fflush(stdout);
}

}  // namespace

struct Runner::Outcome {
  uint64_t ops = 0;
  uint64_t bytes = 0;
  double micros = 0;
  std::string extra;
  std::string error;  // non-empty: the benchmark's check failed
};

Runner::Runner(const Flags& flags) : flags_(flags), values_(flags.seed) {}

Runner::~Runner() = default;

void Runner::OpenStore(bool fresh, bool sync_all) {
  store_.reset();  // close the old DB before touching its directory
  if (fresh) {
    base::Status s = base::RemoveDirRecursively(base::Env::Default(), flags_.db);
    if (!s.ok()) Die("cannot remove " + flags_.db + ": " + s.ToString());
  }
  OpenMode mode;
  mode.fresh = fresh;
  mode.sync_all = sync_all;
  std::string error;
  if (flags_.engine == "kvring") {
    store_ = OpenKvringStore(flags_, mode, &error);
  } else if (flags_.engine == "leveldb") {
    store_ = OpenLevelDbStore(flags_, mode, &error);
  } else {
    store_ = OpenRocksDbStore(flags_, mode, &error);
  }
  if (store_ == nullptr) Die(error);
}

void Runner::PrintHeader() {
  if (header_printed_) return;
  header_printed_ = true;
  const int64_t cache = flags_.EffectiveCacheSize();
  std::printf("%s  keys: 16 bytes  values: %d bytes (~50%% compressible)  entries: %" PRIu64
              "  threads: %d  bloom_bits: %d  cache: %s\n",
              store_->Version().c_str(), flags_.value_size, flags_.num, flags_.threads, flags_.bloom_bits,
              cache >= 0 ? (std::to_string(cache) + " bytes").c_str() : "engine default (8 MiB)");
  std::printf("------------------------------------------------\n");
}

Runner::Outcome Runner::RunOne(const std::string& name) {
  Outcome out;
  ThreadResult total;
  const int threads = flags_.threads;
  const int vsize = flags_.value_size;
  Store* store = store_.get();
  const ValueSource* values = &values_;
  if (name == "fillseq" || name == "fillrandom") {
    std::vector<uint64_t> order(flags_.num);
    std::iota(order.begin(), order.end(), 0);
    if (name == "fillrandom") std::shuffle(order.begin(), order.end(), std::mt19937_64(flags_.seed));
    out.micros = RunThreads(threads, [&](int t, ThreadResult* r) {
      char key[kKeyBytes];
      auto [begin, end] = Slice(flags_.num, threads, t);
      for (uint64_t i = begin; i < end; ++i) {
        FormatKey(order[i], key);
        store->Put(std::string_view(key, kKeyBytes), values->Get(t, i, vsize), false);
      }
      r->ops = end - begin;
      r->bytes = r->ops * (kKeyBytes + static_cast<uint64_t>(vsize));
    }, &total);
    all_keys_present_ = true;
  } else if (name == "fillsync" || name == "overwrite") {
    const bool sync = name == "fillsync";
    const uint64_t n = sync ? flags_.sync_num : flags_.num;
    out.micros = RunThreads(threads, [&](int t, ThreadResult* r) {
      base::Random rnd(flags_.seed * 1000 + static_cast<uint64_t>(t));
      char key[kKeyBytes];
      auto [begin, end] = Slice(n, threads, t);
      for (uint64_t i = begin; i < end; ++i) {
        FormatKey(rnd.Uniform(flags_.num), key);
        store->Put(std::string_view(key, kKeyBytes), values->Get(t, i, vsize), sync);
      }
      r->ops = end - begin;
      r->bytes = r->ops * (kKeyBytes + static_cast<uint64_t>(vsize));
    }, &total);
    if (sync) {
      all_keys_present_ = false;
      out.extra = " (" + std::to_string(n) + " ops, sync=true, " + std::to_string(threads) + " threads)";
    }
  } else if (name == "readrandom" || name == "readmissing") {
    const bool missing = name == "readmissing";
    const uint64_t n = flags_.read_count();
    out.micros = RunThreads(threads, [&](int t, ThreadResult* r) {
      base::Random rnd(flags_.seed * 2000 + static_cast<uint64_t>(t));
      char key[kKeyBytes];
      std::string value;
      auto [begin, end] = Slice(n, threads, t);
      for (uint64_t i = begin; i < end; ++i) {
        const uint64_t k = rnd.Uniform(flags_.num);
        if (missing) {
          FormatMissingKey(k, key);
        } else {
          FormatKey(k, key);
        }
        if (store->Get(std::string_view(key, kKeyBytes), &value)) {
          ++r->found;
          r->bytes += kKeyBytes + value.size();
        }
      }
      r->ops = end - begin;
    }, &total);
    out.extra = " (" + std::to_string(total.found) + " of " + std::to_string(n) + " found)";
    if (missing && total.found != 0) out.error = "readmissing found " + std::to_string(total.found) + " absent keys";
    if (!missing && all_keys_present_ && total.found != n) {
      out.error = "readrandom: " + std::to_string(n - total.found) + " keys missing";
    }
  } else if (name == "readseq") {
    out.micros = RunThreads(threads, [&](int, ThreadResult* r) { r->ops = store->Scan(&r->bytes); }, &total);
    out.extra = " (" + std::to_string(total.ops) + " entries)";
    if (all_keys_present_ && total.ops != flags_.num * static_cast<uint64_t>(threads)) {
      out.error = "readseq saw " + std::to_string(total.ops) + " entries, expected " +
                  std::to_string(flags_.num * static_cast<uint64_t>(threads));
    }
  }
  out.ops = total.ops;
  out.bytes = total.bytes;
  return out;
}

int Runner::Run() {
  static const char* kKnown[] = {"fillseq", "fillsync", "fillrandom", "overwrite", "readrandom", "readmissing",
                                 "readseq"};
  for (const auto& name : flags_.benchmarks) {
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
      std::fprintf(stderr, "engine_bench: unknown benchmark %s\n", name.c_str());
      return 2;
    }
  }
  for (const auto& name : flags_.benchmarks) {
    const bool fill = name == "fillseq" || name == "fillsync" || name == "fillrandom";
    if (fill) {
      OpenStore(/*fresh=*/!flags_.use_existing_db, /*sync_all=*/name == "fillsync");
    } else if (store_ == nullptr) {
      if (!flags_.use_existing_db) {
        std::fprintf(stderr, "engine_bench: %s needs data: put fillseq or fillrandom before it, "
                             "or pass --use_existing_db=1\n", name.c_str());
        return 2;
      }
      OpenStore(/*fresh=*/false, /*sync_all=*/false);
      all_keys_present_ = true;  // an existing DB is assumed to hold [0, num)
    }
    PrintHeader();
    Outcome o = RunOne(name);
    Report(name, o.ops, o.micros, o.bytes, o.extra);
    if (flags_.stats) std::printf("%s\n", store_->Stats().c_str());
    if (!o.error.empty()) {
      std::fprintf(stderr, "engine_bench: %s\n", o.error.c_str());
      return 1;
    }
    if (name == "fillsync") {
      store_.reset();  // a sync-always DB is no base for the next benchmarks
    }
  }
  store_.reset();
  return 0;
}

}  // namespace kvring::bench
