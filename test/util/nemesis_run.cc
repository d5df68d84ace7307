#include "test/util/nemesis_run.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "base/env.h"
#include "base/hash.h"
#include "net/protocol.h"
#include "test/util/history.h"
#include "test/util/kvnode_process.h"
#include "test/util/nemesis_injector.h"
#include "test/util/nemesis_workload.h"
#include "test/util/netns.h"

namespace kvring::test {

using base::Status;

namespace {

constexpr int kMaxSiblings = 64;                 // kvnode's default --max-siblings
constexpr int kReadSiblingBound = 4 * kMaxSiblings;  // what a read may return (docs/history.md)
constexpr int kNodePort = 7000;                  // every node's port inside the namespace
constexpr char kClientHost[] = "127.0.0.9";      // the clients' source inside the namespace
constexpr uint64_t kSettleTimeoutMs = 60'000;
constexpr uint64_t kDrainTimeoutMs = 120'000;
constexpr int kFinalReadAttempts = 20;

std::string MakeRunDir(const std::string& parent, uint64_t seed) {
  std::string base = parent;
  if (base.empty()) base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  std::string templ = base + "/kvnemesis-" + std::to_string(seed) + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return "";
  return templ;
}

// One scheduled action: apply or heal plan[index] at time_ms.
struct Event {
  uint64_t time_ms;
  bool apply;
  size_t index;
};

std::vector<Event> EventsOf(const std::vector<Fault>& plan) {
  std::vector<Event> events;
  for (size_t i = 0; i < plan.size(); ++i) {
    events.push_back({plan[i].start_ms, true, i});
    events.push_back({plan[i].end_ms, false, i});
  }
  // Heals before applies at the same instant; otherwise in time order.
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : (!a.apply && b.apply);
  });
  return events;
}

class NemesisRun {
 public:
  explicit NemesisRun(const NemesisOptions& o) : o_(o) {}

  NemesisResult Go() {
    r_.plan = PlanFaults(PlanOptions());
    if (!SetUp()) return Finish();
    RunWorkload();
    Settle();
    FinalReads();
    Check();
    return Finish();
  }

 private:
  FaultPlanOptions PlanOptions() const {
    FaultPlanOptions p;
    p.seed = o_.seed;
    p.duration_ms = o_.faults ? o_.seconds * 1000 : 0;
    p.nodes = o_.nodes;
    p.network = o_.network;
    p.disk_full_node = o_.disk_full ? o_.nodes - 1 : -1;
    p.power_loss = o_.power_loss;
    p.max_skew_ms = o_.max_skew_s * 1000;
    return p;
  }

  void Problem(const std::string& what) { r_.problems.push_back(what); }

  uint64_t ElapsedMs() const { return NowMs() - start_ms_; }

  void Log(const std::string& line) {
    std::lock_guard<std::mutex> l(log_mu_);
    if (fault_log_ == nullptr) return;
    std::fprintf(fault_log_, "%8.1f s  %s\n", static_cast<double>(ElapsedMs()) / 1000, line.c_str());
    std::fflush(fault_log_);
  }

  std::string Host(int i) const { return o_.network ? "127.0.0." + std::to_string(i + 1) : "127.0.0.1"; }

  bool SetUp() {
    start_ms_ = NowMs();
    r_.run_dir = MakeRunDir(o_.dir, o_.seed);
    if (r_.run_dir.empty()) {
      Problem("cannot create a run directory under " + (o_.dir.empty() ? std::string("$TMPDIR") : o_.dir));
      return false;
    }
    fault_log_ = std::fopen((r_.run_dir + "/faults.log").c_str(), "w");
    if (o_.disk_full && !MountDiskFullDir()) return false;
    return StartNodes() && OpenHistory();
  }

  // The last node's data directory on a small tmpfs of its own (needs the
  // private mount namespace the re-exec made).
  bool MountDiskFullDir() {
    const std::string dir = r_.run_dir + "/n" + std::to_string(o_.nodes);
    Status s = base::Env::Default()->CreateDir(dir);
    ProgramResult m = RunProgram({FindProgram("mount"), "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir});
    if (!s.ok() || m.exit_code != 0) {
      Problem("--disk-full: cannot mount a tmpfs on " + dir + ": " + s.ToString() + " " + m.err);
      return false;
    }
    tmpfs_ = dir;
    r_.notes.push_back("n" + std::to_string(o_.nodes) + "'s data directory is a 64 MiB tmpfs (not kept after the run)");
    return true;
  }

  std::vector<std::string> Seeds(const std::vector<int>& ports) const {
    std::vector<std::string> seeds;
    for (int i = 0; i < o_.nodes; ++i) seeds.push_back(Host(i) + ":" + std::to_string(ports[static_cast<size_t>(i)]));
    return seeds;
  }

  std::vector<int> Ports() const {
    std::vector<int> ports;
    while (static_cast<int>(ports.size()) < o_.nodes) {
      int p = o_.network ? kNodePort : PickFreePort();
      if (o_.network || (p > 0 && std::find(ports.begin(), ports.end(), p) == ports.end())) ports.push_back(p);
    }
    return ports;
  }

  bool StartNodes() {
    const std::vector<int> ports = Ports();
    const std::vector<std::string> seeds = Seeds(ports);
    for (int i = 0; i < o_.nodes; ++i) {
      KvnodeOptions n;
      n.id = "n" + std::to_string(i + 1);
      n.host = Host(i);
      n.port = ports[static_cast<size_t>(i)];
      n.seeds = seeds;
      n.n = 3;
      n.sync = o_.sync;
      n.extra_flags = {"--request-timeout-ms", "1000", "--test-fault-files"};
      n.client_source = o_.network ? kClientHost : "";
      nodes_.push_back(std::make_unique<KvnodeProcess>(r_.run_dir, std::move(n)));
    }
    for (auto& n : nodes_) {
      Status s = n->Launch();
      if (s.ok()) s = n->WaitReady();
      if (!s.ok()) return Problem("start: " + s.ToString()), false;
    }
    return WaitConnected("start");
  }

  bool WaitConnected(const char* when) {
    std::vector<std::string> ids;
    for (auto& n : nodes_) ids.push_back(n->id());
    for (auto& n : nodes_) {
      Status s = n->WaitForMembers(ids, ids, kSettleTimeoutMs);
      if (!s.ok()) return Problem(std::string(when) + ": " + s.ToString()), false;
    }
    return true;
  }

  bool OpenHistory() {
    history_path_ = r_.run_dir + "/history.jsonl";
    const std::string note = "kvnemesis seed " + std::to_string(o_.seed) + ", " + std::to_string(o_.seconds) +
                             " s, " + std::to_string(o_.nodes) + " nodes";
    auto h = HistoryWriter::Create(history_path_, {.n = 3, .max_siblings = kReadSiblingBound, .note = note});
    if (!h.ok()) return Problem("history: " + h.status().ToString()), false;
    history_ = std::move(h).value();
    return true;
  }

  std::vector<std::string> Addresses() const {
    std::vector<std::string> a;
    for (const auto& n : nodes_) a.push_back(n->address());
    return a;
  }

  void RunWorkload() {
    shared_.history = history_.get();
    shared_.ledger = &ledger_;
    shared_.counts = &counts_;
    shared_.stop = &stop_;
    shared_.workers = o_.workers;
    std::vector<std::thread> threads;
    for (int t = 0; t < o_.workers; ++t) {
      NemesisWorkerOptions w{.seed = base::Mix64(o_.seed * 31 + static_cast<uint64_t>(t)), .index = t,
                             .addresses = Addresses(), .client_source = o_.network ? kClientHost : "",
                             .think_ms = o_.think_ms};
      threads.emplace_back([w, this] { NemesisWorker(w, &shared_).Run(); });
    }
    start_ms_ = NowMs();  // fault times count from here
    Log("workload started: " + std::to_string(o_.workers) + " workers");
    injector_ = std::make_unique<FaultInjector>(InjectorOptions());
    RunSchedule();
    stop_.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    Log("workload stopped");
  }

  FaultInjectorOptions InjectorOptions() {
    FaultInjectorOptions f;
    for (auto& n : nodes_) f.nodes.push_back(n.get());
    for (int i = 0; i < o_.nodes; ++i) f.hosts.push_back(Host(i));
    if (o_.network) f.iptables = FindProgram("iptables");
    f.log = [this](const std::string& line) { Log(line); };
    return f;
  }

  // Applies and heals the plan on time until the workload's end.
  void RunSchedule() {
    const std::vector<Event> events = EventsOf(r_.plan);
    size_t next = 0;
    const uint64_t end_ms = o_.seconds * 1000;
    while (ElapsedMs() < end_ms || next < events.size()) {
      for (; next < events.size() && events[next].time_ms <= ElapsedMs(); ++next) Do(events[next]);
      injector_->CheckForCrashes();
      SleepMs(20);
    }
  }

  void Do(const Event& e) {
    const Fault& f = r_.plan[e.index];
    Status s = e.apply ? injector_->Apply(f) : injector_->Heal(f);
    if (e.apply && s.ok()) r_.faults_applied[FaultKindName(f.kind)]++;
    if (!s.ok()) r_.notes.push_back(std::string(e.apply ? "apply " : "heal ") + FaultText(f) + ": " + s.ToString());
  }

  void Settle() {
    Status s = injector_->HealEverything();
    if (!s.ok()) Problem("healing: " + s.ToString());
    injector_->CheckForCrashes();
    for (const std::string& c : injector_->crashes()) Problem("crash: " + c);
    if (!WaitConnected("after healing")) return;
    settled_ = true;
    WaitForHandoff();
  }

  void WaitForHandoff() {
    std::vector<std::unique_ptr<KvClient>> clients;
    for (const auto& a : Addresses()) clients.push_back(std::make_unique<KvClient>(a, 5000, ClientSource()));
    int64_t pending = 0;
    const bool drained = WaitFor(
        [&] {
          pending = 0;
          for (auto& c : clients) pending += std::max<int64_t>(0, StatsCounter(*c, "hints_pending"));
          return pending == 0;
        },
        kDrainTimeoutMs);
    Log("hinted handoff " + std::string(drained ? "drained" : "not drained") + " (" + std::to_string(pending) +
        " hints pending)");
    if (!drained) r_.notes.push_back(std::to_string(pending) + " hints still pending before the final reads");
    for (size_t i = 0; i < clients.size(); ++i) NoteDroppedHints(nodes_[i]->id(), *clients[i]);
  }

  // Hints a node dropped (over its bounds, or older than the window) never reach
  // their owner: worth knowing when a write goes missing.
  void NoteDroppedHints(const std::string& id, KvClient& client) {
    const int64_t dropped = StatsCounter(client, "hints_dropped");
    if (dropped > 0) {
      r_.notes.push_back(id + " dropped " + std::to_string(dropped) + " hints (window " +
                         std::to_string(StatsCounter(client, "hints_dropped_window")) + ")");
    }
  }

  std::string ClientSource() const { return o_.network ? kClientHost : ""; }

  // Two strict reads at ALL of every key, through two coordinators, recorded as final.
  void FinalReads() {
    if (!settled_) return;  // a problem says why
    std::vector<std::unique_ptr<KvClient>> clients;
    for (const auto& a : Addresses()) clients.push_back(std::make_unique<KvClient>(a, 10'000, ClientSource()));
    const int64_t process = o_.workers + 1;
    for (const std::string& key : ledger_.Keys()) {
      const size_t first = base::Hash64(key, 0) % clients.size();
      ReadResult last;
      for (size_t round = 0; round < 2; ++round) {
        if (!FinalRead(*clients[(first + round) % clients.size()], process, key, &last)) break;
      }
      CheckSetElements(key, last);
      ++r_.keys;
    }
  }

  bool FinalRead(KvClient& client, int64_t process, const std::string& key, ReadResult* out) {
    std::string error;
    for (int attempt = 0; attempt < kFinalReadAttempts; ++attempt) {
      PendingRead op = history_->InvokeGet(
          process, key, {.r = ConsistencyLevel::All(), .strict = true, .final_read = true});
      auto got = client.Read(key, net::kConsistencyAll, net::kGetFlagStrict);
      if (got.ok()) {
        ++r_.final_reads;
        std::vector<ReadValue> values = got->found ? ReadValuesOf(*got) : std::vector<ReadValue>();
        MaybePlant(key, &values);
        history_->Ok(std::move(op), values, HistoryContextOfClientContext(key, got->context));
        *out = *got;
        return true;
      }
      error = got.status().ToString();
      history_->Info(std::move(op), error);
      SleepMs(500);
    }
    Problem("final read of " + key + " at ALL through " + client.address() + " failed " +
            std::to_string(kFinalReadAttempts) + " times: " + error);
    return false;
  }

  // --plant-lost-write: the first register whose final read returns exactly its
  // last, acknowledged write loses that value from this (first) final read.
  void MaybePlant(const std::string& key, std::vector<ReadValue>* values) {
    if (!o_.plant_lost_write || !r_.planted.empty() || key.rfind("reg-", 0) != 0 || values->size() != 1) return;
    const NemesisLedger::LastWrite last = ledger_.LastWriteOf(key);
    if (!last.acknowledged || last.value.empty() || (*values)[0].value != last.value) return;
    r_.planted = "dropped the acknowledged value \"" + last.value + "\" from the first final read of " + key;
    values->clear();
  }

  void CheckSetElements(const std::string& key, const ReadResult& final_read) {
    if (key.rfind("set-", 0) != 0) return;
    std::set<std::string> present;
    for (const SiblingView& s : final_read.siblings) {
      for (const std::string& e : NemesisWorker::SetElements(s.value)) present.insert(e);
    }
    std::string missing;
    int count = 0;
    for (const std::string& e : ledger_.AckedElementsOf(key)) {
      if (present.count(e) == 0 && count++ < 5) missing += " " + e;
    }
    if (count > 0) {
      Problem("lost update: " + std::to_string(count) + " element(s) of acknowledged writes of " + key +
              " are missing from its final read:" + missing);
    }
  }

  void Check() {
    Status s = history_->Close();
    if (!s.ok()) Problem("history: " + s.ToString());
    auto h = ReadHistory(history_path_);
    if (!h.ok()) return Problem("history: " + h.status().ToString());
    r_.check = CheckHistory(*h);
    r_.impact = ImpactByKind(r_.plan, start_ms_ * 1000, h->events);
  }

  void StopNodes() {
    for (auto& n : nodes_) {
      if (!n->running()) continue;
      auto code = n->Terminate(30'000);
      if (!code.ok() || *code != 0) {
        r_.notes.push_back(n->id() + " did not stop cleanly on SIGTERM: " +
                           (code.ok() ? "exit " + std::to_string(*code) : code.status().ToString()));
      }
    }
  }

  NemesisResult Finish() {
    if (history_ != nullptr) history_->Close().IgnoreError();
    r_.reads = counts_.reads;
    r_.reads_ok = counts_.reads_ok;
    r_.writes = counts_.writes;
    r_.writes_ok = counts_.writes_ok;
    r_.writes_failed = counts_.writes_failed;
    r_.writes_unknown = counts_.writes_unknown;
    StopNodes();
    injector_.reset();
    nodes_.clear();
    if (!tmpfs_.empty()) RunProgram({FindProgram("umount"), tmpfs_});
    if (fault_log_ != nullptr) std::fclose(fault_log_);
    fault_log_ = nullptr;
    return std::move(r_);
  }

  const NemesisOptions o_;
  NemesisResult r_;
  uint64_t start_ms_ = 0;
  std::mutex log_mu_;
  FILE* fault_log_ = nullptr;
  std::string tmpfs_;
  std::string history_path_;
  std::vector<std::unique_ptr<KvnodeProcess>> nodes_;
  std::unique_ptr<HistoryWriter> history_;
  std::unique_ptr<FaultInjector> injector_;
  NemesisLedger ledger_;
  NemesisCounts counts_;
  NemesisShared shared_;
  std::atomic<bool> stop_{false};
  bool settled_ = false;  // every node sees every other up after healing
};

std::string Num(uint64_t v) { return std::to_string(v); }

}  // namespace

NemesisResult RunNemesis(const NemesisOptions& options) { return NemesisRun(options).Go(); }

std::string NemesisReport(const NemesisResult& r) {
  std::string s = "fault schedule (" + Num(r.plan.size()) + " faults):\n";
  for (const Fault& f : r.plan) s += "  " + FaultText(f) + "\n";
  s += "faults applied:";
  for (const auto& [kind, count] : r.faults_applied) s += " " + kind + " " + Num(count) + ",";
  if (r.faults_applied.empty()) s += " none";
  s += "\nops: " + Num(r.reads) + " reads (" + Num(r.reads_ok) + " ok), " + Num(r.writes) + " writes (" +
       Num(r.writes_ok) + " acknowledged, " + Num(r.writes_failed) + " failed, " + Num(r.writes_unknown) +
       " unknown); final reads: " + Num(r.final_reads) + " of " + Num(r.keys) + " keys\n";
  if (!r.planted.empty()) s += "planted: " + r.planted + "\n";
  for (const std::string& n : r.notes) s += "note: " + n + "\n";
  for (const std::string& p : r.problems) s += "PROBLEM: " + p + "\n";
  if (!r.impact.empty()) s += "per fault kind (ops completed while one was in force; window: no success anywhere):\n" + ImpactTable(r.impact);
  s += "checker:\n" + ReportText(r.check);
  return s;
}

}  // namespace kvring::test
