#include "cmd/kvbench/report.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <ctime>

namespace kvring::cmd::kvbench {

using base::Status;

namespace {

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A small JSON object builder: Field() calls in order, nesting with Begin/End.
class JsonWriter {
 public:
  void Begin(const char* name = nullptr) { Open(name, '{'); }
  void End() { Close('}'); }
  void BeginArray(const char* name) { Open(name, '['); }
  void EndArray() { Close(']'); }
  void Raw(const char* name, const std::string& value) {
    Key(name);
    out_ += value;
  }
  void Str(const char* name, const std::string& value) { Raw(name, Quote(value)); }
  void Int(const char* name, uint64_t v) { Raw(name, std::to_string(v)); }
  void Num(const char* name, double v, const char* fmt = "%.3f") { Raw(name, Fmt(fmt, v)); }
  void Bool(const char* name, bool v) { Raw(name, v ? "true" : "false"); }
  std::string Take() { return std::move(out_) + "\n"; }

 private:
  void Key(const char* name) {
    if (need_comma_) out_ += ',';
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
    if (name != nullptr) out_ += Quote(name) + ": ";
    need_comma_ = true;
  }
  void Open(const char* name, char bracket) {
    if (depth_ > 0) Key(name);
    out_ += bracket;
    ++depth_;
    need_comma_ = false;
  }
  void Close(char bracket) {
    --depth_;
    out_ += '\n';
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
    out_ += bracket;
    need_comma_ = true;
  }
  std::string out_;
  int depth_ = 0;
  bool need_comma_ = false;
};

void LatencyJson(JsonWriter* j, const Histogram& h) {
  j->Begin("latency_us");
  j->Num("p50", Us(h.Percentile(0.50)), "%.1f");
  j->Num("p90", Us(h.Percentile(0.90)), "%.1f");
  j->Num("p99", Us(h.Percentile(0.99)), "%.1f");
  j->Num("p999", Us(h.Percentile(0.999)), "%.1f");
  j->Num("max", Us(h.max()), "%.1f");
  j->Num("min", Us(h.min()), "%.1f");
  j->Num("mean", h.Mean() / 1000.0, "%.1f");
  j->End();
}

std::string TargetList(const BenchOptions& o) {
  std::string s;
  for (const auto& t : o.targets) s += (s.empty() ? "" : " ") + t.text;
  return s;
}

std::string ValueSizeText(const BenchOptions& o) {
  return o.value_min == o.value_max ? std::to_string(o.value_min)
                                    : std::to_string(o.value_min) + "-" + std::to_string(o.value_max);
}

std::string MixText(const BenchOptions& o) {
  std::string mix = Fmt("%.0f%% reads", o.read_ratio * 100) + (o.rmw ? ", the rest read-modify-writes" : "");
  if (!o.workload.empty()) mix = "workload " + o.workload + " (" + mix + ")";
  return mix + (o.overwrite ? ", puts overwrite (last writer wins)" : ", puts with contexts");
}

void SettingsJson(JsonWriter* j, const BenchResult& r) {
  const BenchOptions& o = r.options;
  j->BeginArray("targets");
  for (const auto& t : o.targets) j->Raw(nullptr, Quote(t.text));
  j->EndArray();
  j->Int("connections", static_cast<uint64_t>(o.connections));
  j->Int("pipeline", static_cast<uint64_t>(o.pipeline));
  j->Int("threads", static_cast<uint64_t>(o.threads));
  j->Int("keys", o.keys);
  j->Int("key_size", static_cast<uint64_t>(o.key_size));
  j->Begin("value_size");
  j->Int("min", o.value_min);
  j->Int("max", o.value_max);
  j->End();
  j->Num("read_ratio", o.read_ratio, "%.4g");
  j->Bool("rmw", o.rmw);
  j->Str("write_mode", o.overwrite ? "overwrite" : "context");
  j->Bool("strict", o.strict);
  j->Str("workload", o.workload);
  j->Str("distribution", DistributionName(o.distribution));
  j->Num("zipf_theta", o.zipf_theta, "%.4g");
  j->Str("r", net::ConsistencyName(o.r));
  j->Str("w", net::ConsistencyName(o.w));
  j->Str("mode", o.rate > 0 ? "open" : "closed");
  j->Num("rate", o.rate, "%.1f");
  j->Num("duration_s", o.requests > 0 ? 0 : o.duration_s, "%.3f");
  j->Int("requests", o.requests);
  j->Num("warmup_s", o.warmup_s, "%.3f");
  j->Bool("preload", o.preload);
  j->Int("seed", o.seed);
  j->Int("run_id", r.run_id);
}

void StalenessJson(JsonWriter* j, const BenchResult& r) {
  const StalenessStats& s = r.stats.staleness;
  j->Bool("staleness_checked", r.options.staleness);
  j->Int("reads_checked", s.reads_checked);
  j->Int("stale_reads", s.stale_reads);
  j->Num("stale_fraction", r.StaleFraction(), "%.6g");
  j->Int("max_staleness_versions", s.max_versions);
  j->Num("max_staleness_ms", static_cast<double>(s.max_lag_us) / 1000.0, "%.3f");
}

std::string LatencyCell(uint64_t ns) {
  const double us = Us(ns);
  return us < 10000 ? Fmt("%.1f", us) : Fmt("%.0f", us);
}

}  // namespace

double BenchResult::StaleFraction() const {
  const auto& s = stats.staleness;
  return s.reads_checked == 0 ? 0.0 : static_cast<double>(s.stale_reads) / static_cast<double>(s.reads_checked);
}

std::string ResultJson(const BenchResult& r) {
  JsonWriter j;
  j.Begin();
  j.Str("tool", "kvbench");
  SettingsJson(&j, r);
  j.Bool("interrupted", r.interrupted);
  j.Num("elapsed_s", r.elapsed_s);
  j.Int("ops", r.stats.all.ok);
  j.Num("ops_per_sec", r.OpsPerSec(), "%.1f");
  j.Int("errors", r.stats.all.errors);
  j.Begin("errors_by_kind");
  for (const auto& [kind, e] : r.stats.errors) {
    j.Begin(kind.c_str());
    j.Int("count", e.count);
    j.Str("example", e.example);
    j.End();
  }
  j.End();
  j.Int("misses", r.stats.all.misses);
  j.Int("unsent", r.stats.unsent);
  j.Int("connect_failures", r.stats.connect_failures);
  LatencyJson(&j, r.stats.all.latency);
  j.Begin("operations");
  for (int i = 0; i < kOpTypes; ++i) {
    const OpStats& op = r.stats.ops[i];
    if (op.ok + op.errors == 0) continue;
    j.Begin(OpName(static_cast<OpType>(i)));
    j.Int("ops", op.ok);
    j.Num("ops_per_sec", r.elapsed_s > 0 ? static_cast<double>(op.ok) / r.elapsed_s : 0, "%.1f");
    j.Int("errors", op.errors);
    j.Int("misses", op.misses);
    LatencyJson(&j, op.latency);
    j.End();
  }
  j.End();
  StalenessJson(&j, r);
  j.Int("preload_ok", r.stats.preload_ok);
  j.Int("preload_errors", r.stats.preload_errors);
  j.Num("preload_s", r.preload_s);
  j.BeginArray("timeline");
  for (const auto& p : r.timeline) {
    j.Begin();
    j.Num("t_s", p.t_s, "%.2f");
    j.Bool("warmup", p.warmup);
    j.Num("ops_per_sec", p.ops_per_sec, "%.1f");
    j.Num("p99_us", p.p99_us, "%.1f");
    j.Int("errors", p.errors);
    j.End();
  }
  j.EndArray();
  j.End();
  return j.Take();
}

Status WriteJson(const std::string& path, const BenchResult& result) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Status::FromErrno("--json " + path, errno);
  const std::string text = ResultJson(result);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Status::IOError("--json " + path + ": write failed");
  return Status::OK();
}

Status AppendCsv(const std::string& path, const BenchResult& r) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return Status::FromErrno("--csv " + path, errno);
  std::fseek(f, 0, SEEK_END);
  const BenchOptions& o = r.options;
  if (std::ftell(f) == 0) {
    std::fprintf(f,
                 "unix_time,targets,connections,pipeline,threads,keys,value_size,read_ratio,workload,distribution,"
                 "r,w,mode,rate,elapsed_s,op,ops,ops_per_sec,errors,p50_us,p90_us,p99_us,p999_us,max_us,"
                 "reads_checked,stale_reads,stale_fraction,max_staleness_versions,max_staleness_ms\n");
  }
  const auto now = static_cast<long long>(std::time(nullptr));
  for (int i = -1; i < kOpTypes; ++i) {
    const OpStats& op = i < 0 ? r.stats.all : r.stats.ops[i];
    if (i >= 0 && op.ok + op.errors == 0) continue;
    const Histogram& h = op.latency;
    const auto& s = r.stats.staleness;
    std::fprintf(f, "%lld,%s,%d,%d,%d,%" PRIu64 ",%s,%.4g,%s,%s,%s,%s,%s,%.1f,%.3f,%s,%" PRIu64 ",%.1f,%" PRIu64
                 ",%.1f,%.1f,%.1f,%.1f,%.1f,%" PRIu64 ",%" PRIu64 ",%.6g,%" PRIu64 ",%.3f\n",
                 now, TargetList(o).c_str(), o.connections, o.pipeline, o.threads, o.keys, ValueSizeText(o).c_str(),
                 o.read_ratio, o.workload.c_str(), DistributionName(o.distribution),
                 net::ConsistencyName(o.r).c_str(), net::ConsistencyName(o.w).c_str(), o.rate > 0 ? "open" : "closed",
                 o.rate, r.elapsed_s, i < 0 ? "all" : OpName(static_cast<OpType>(i)), op.ok,
                 r.elapsed_s > 0 ? static_cast<double>(op.ok) / r.elapsed_s : 0, op.errors, Us(h.Percentile(0.5)),
                 Us(h.Percentile(0.9)), Us(h.Percentile(0.99)), Us(h.Percentile(0.999)), Us(h.max()),
                 s.reads_checked, s.stale_reads, r.StaleFraction(), s.max_versions,
                 static_cast<double>(s.max_lag_us) / 1000.0);
  }
  if (std::fclose(f) != 0) return Status::IOError("--csv " + path + ": write failed");
  return Status::OK();
}

void PrintBanner(FILE* out, const BenchOptions& o) {
  std::fprintf(out, "kvbench: %s\n", TargetList(o).c_str());
  std::fprintf(out, "  %d connections x %d in flight, %d thread%s, %s", o.connections, o.pipeline, o.threads,
               o.threads == 1 ? "" : "s", o.rate > 0 ? Fmt("open loop at %.0f requests/s", o.rate).c_str() : "closed loop");
  if (o.requests > 0) std::fprintf(out, ", %" PRIu64 " requests", o.requests);
  else std::fprintf(out, ", %.1f s", o.duration_s);
  std::fprintf(out, " after %.1f s warm-up\n", o.warmup_s);
  std::fprintf(out, "  %" PRIu64 " keys of %d bytes (%s), values %s bytes, %s, r=%s w=%s%s, seed %" PRIu64 "\n",
               o.keys, o.key_size, DistributionName(o.distribution), ValueSizeText(o).c_str(), MixText(o).c_str(),
               net::ConsistencyName(o.r).c_str(), net::ConsistencyName(o.w).c_str(),
               o.staleness ? "" : ", no staleness check", o.seed);
}

void PrintSummary(FILE* out, const BenchResult& r) {
  const RunStats& s = r.stats;
  std::fprintf(out, "%s%.2f s measured: %" PRIu64 " ops, %.0f ops/s, %" PRIu64 " errors\n",
               r.interrupted ? "interrupted: " : "", r.elapsed_s, s.all.ok, r.OpsPerSec(), s.all.errors);
  std::fprintf(out, "%-6s %12s %12s %9s %9s %9s %9s %9s   (latency in us)\n", "op", "ops", "ops/s", "p50", "p90",
               "p99", "p99.9", "max");
  for (int i = -1; i < kOpTypes; ++i) {
    const OpStats& op = i < 0 ? s.all : s.ops[i];
    if (i >= 0 && op.ok + op.errors == 0) continue;
    const Histogram& h = op.latency;
    std::fprintf(out, "%-6s %12" PRIu64 " %12.1f %9s %9s %9s %9s %9s\n", i < 0 ? "all" : OpName(static_cast<OpType>(i)),
                 op.ok, r.elapsed_s > 0 ? static_cast<double>(op.ok) / r.elapsed_s : 0,
                 LatencyCell(h.Percentile(0.5)).c_str(), LatencyCell(h.Percentile(0.9)).c_str(),
                 LatencyCell(h.Percentile(0.99)).c_str(), LatencyCell(h.Percentile(0.999)).c_str(),
                 LatencyCell(h.max()).c_str());
  }
  if (s.all.misses > 0) std::fprintf(out, "reads not found: %" PRIu64 "\n", s.all.misses);
  if (r.options.staleness) {
    const auto& st = s.staleness;
    std::fprintf(out,
                 "staleness: %" PRIu64 " reads checked, %" PRIu64 " stale (%.4f%%), at most %" PRIu64
                 " versions and %.3f ms behind\n",
                 st.reads_checked, st.stale_reads, r.StaleFraction() * 100, st.max_versions,
                 static_cast<double>(st.max_lag_us) / 1000.0);
  } else {
    std::fprintf(out, "staleness: not checked (--no-staleness, or values under 24 bytes)\n");
  }
  for (const auto& [kind, e] : s.errors) {
    std::fprintf(out, "error %s: %" PRIu64 " (first: %s)\n", kind.c_str(), e.count, e.example.c_str());
  }
  if (s.unsent > 0) {
    std::fprintf(out, "unsent: %" PRIu64 " scheduled requests never went out: the target fell behind --rate\n",
                 s.unsent);
  }
  if (s.connect_failures > 0) std::fprintf(out, "connect failures: %" PRIu64 "\n", s.connect_failures);
  if (s.preload_errors > 0) {
    std::fprintf(out, "preload: %" PRIu64 " of %" PRIu64 " writes failed (first: %s)\n", s.preload_errors,
                 s.preload_ok + s.preload_errors, s.preload_error.c_str());
  }
}

std::string FormatProgress(double t_s, const char* phase, double ops_per_sec, uint64_t p99_ns, uint64_t errors) {
  char buf[160];
  std::string p99 = p99_ns == 0 ? "-" : Us(p99_ns) < 10000 ? Fmt("%.0f us", Us(p99_ns)) : Fmt("%.1f ms", Us(p99_ns) / 1000);
  std::snprintf(buf, sizeof(buf), "[%6.1fs %-6s] %10.0f ops/s  p99 %-9s errors %" PRIu64, t_s, phase, ops_per_sec,
                p99.c_str(), errors);
  return buf;
}

}  // namespace kvring::cmd::kvbench
