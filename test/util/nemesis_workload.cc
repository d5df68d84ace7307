#include "test/util/nemesis_workload.h"

#include "net/protocol.h"

namespace kvring::test {

using base::Status;

namespace {

constexpr int kRegistersPerWorker = 2;
constexpr int kSetSlots = 3;
constexpr uint64_t kAddsPerSetKey = 40;
constexpr int kDeleteKeys = 4;

}  // namespace

std::vector<ReadValue> ReadValuesOf(const ReadResult& r) {
  std::vector<ReadValue> values;
  for (const SiblingView& s : r.siblings) values.push_back({s.value, s.dot});
  return values;
}

// --- NemesisLedger ------------------------------------------------------------------

void NemesisLedger::Touched(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  last_.try_emplace(key);
}

void NemesisLedger::Invoked(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> l(mu_);
  last_[key] = {value, false};
}

void NemesisLedger::Completed(const std::string& key, const std::string& value, bool acknowledged) {
  std::lock_guard<std::mutex> l(mu_);
  LastWrite& last = last_[key];
  if (last.value == value) last.acknowledged = acknowledged;
}

void NemesisLedger::AckedElements(const std::string& key, const std::vector<std::string>& elements) {
  std::lock_guard<std::mutex> l(mu_);
  elements_[key].insert(elements.begin(), elements.end());
}

std::vector<std::string> NemesisLedger::Keys() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> keys;
  for (const auto& [key, last] : last_) keys.push_back(key);
  return keys;
}

std::set<std::string> NemesisLedger::AckedElementsOf(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = elements_.find(key);
  return it == elements_.end() ? std::set<std::string>() : it->second;
}

NemesisLedger::LastWrite NemesisLedger::LastWriteOf(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = last_.find(key);
  return it == last_.end() ? LastWrite() : it->second;
}

// --- NemesisWorker ------------------------------------------------------------------

NemesisWorker::NemesisWorker(NemesisWorkerOptions options, NemesisShared* shared)
    : o_(std::move(options)), shared_(shared), process_(o_.index + 1), rnd_(o_.seed) {
  for (const std::string& a : o_.addresses) {
    clients_.push_back(std::make_unique<KvClient>(a, o_.timeout_ms, o_.client_source));
  }
}

std::string NemesisWorker::SetValue(const std::set<std::string>& elements) {
  std::string value;
  for (const std::string& e : elements) value += (value.empty() ? "" : ",") + e;
  return value;
}

std::set<std::string> NemesisWorker::SetElements(std::string_view value) {
  std::set<std::string> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    out.insert(std::string(value.substr(0, comma)));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return out;
}

void NemesisWorker::Run() {
  while (!shared_->stop->load(std::memory_order_acquire)) {
    Step();
    if (o_.think_ms > 0) SleepMs(rnd_.Uniform(2 * o_.think_ms + 1));
  }
}

void NemesisWorker::Step() {
  const uint64_t p = rnd_.Uniform(100);
  if (p < 30) return RegisterStep();
  if (p < 65) return SetStep();
  if (p < 85) return DeleteStep();
  ReadStep();
}

KvClient& NemesisWorker::AnyCoordinator() { return *clients_[rnd_.Uniform(clients_.size())]; }

uint8_t NemesisWorker::AnyLevel() {
  static constexpr uint8_t kLevels[] = {1, 2, 2, net::kConsistencyQuorum, net::kConsistencyQuorum, 3,
                                        net::kConsistencyAll};
  return kLevels[rnd_.Uniform(sizeof(kLevels))];
}

std::string NemesisWorker::SetKey(int slot) const {
  const uint64_t adds = shared_->set_adds[slot].load(std::memory_order_relaxed);
  return "set-" + std::to_string(slot) + "-" + std::to_string(adds / kAddsPerSetKey);
}

std::string NemesisWorker::NextValue(const std::string& key) {
  return key + "=t" + std::to_string(process_) + "." + std::to_string(next_++);
}

// Own registers: a strict W=2 write with the last receipt's context (after a
// failure, with a strict R=2 read's); others' registers: a strict R=2 read.
void NemesisWorker::RegisterStep() {
  const int k = static_cast<int>(rnd_.Uniform(kRegistersPerWorker));
  if (rnd_.Uniform(10) >= 6) {
    const int owner = static_cast<int>(rnd_.Uniform(static_cast<uint64_t>(shared_->workers)));
    Get("reg-" + std::to_string(owner + 1) + "-" + std::to_string(k), 2, true).status().IgnoreError();
    return;
  }
  const std::string key = "reg-" + std::to_string(process_) + "-" + std::to_string(k);
  auto known = register_context_.find(key);
  std::string context;
  if (known != register_context_.end()) {
    context = known->second;
  } else {
    auto read = Get(key, 2, true);
    if (!read.ok()) return;
    context = read->context;
  }
  auto put = Put(key, NextValue(key), context, 2, true);
  if (put.ok()) register_context_[key] = put->context;
  else register_context_.erase(key);
}

// Read, add an element, write the union back with the read's context.
void NemesisWorker::SetStep() {
  const int slot = static_cast<int>(rnd_.Uniform(kSetSlots));
  const std::string key = SetKey(slot);
  auto read = Get(key, AnyLevel(), rnd_.OneIn(3));
  if (!read.ok() || shared_->stop->load(std::memory_order_acquire)) return;
  std::set<std::string> elements;
  for (const SiblingView& s : read->siblings) {
    for (const std::string& e : SetElements(s.value)) elements.insert(e);
  }
  elements.insert("t" + std::to_string(process_) + "." + std::to_string(next_++));
  shared_->set_adds[slot].fetch_add(1, std::memory_order_relaxed);
  const std::string value = SetValue(elements);
  auto put = Put(key, value, read->context, AnyLevel(), rnd_.OneIn(3));
  if (put.ok()) shared_->ledger->AckedElements(key, std::vector<std::string>(elements.begin(), elements.end()));
}

// Read, then delete what it saw or write a new value over it (a re-create when
// it was deleted).
void NemesisWorker::DeleteStep() {
  const std::string key = "del-" + std::to_string(rnd_.Uniform(kDeleteKeys));
  auto read = Get(key, AnyLevel(), rnd_.OneIn(3));
  if (!read.ok() || shared_->stop->load(std::memory_order_acquire)) return;
  if (read->found && rnd_.OneIn(2)) {
    Delete(key, read->context, AnyLevel(), rnd_.OneIn(3)).status().IgnoreError();
  } else {
    Put(key, NextValue(key), read->context, AnyLevel(), rnd_.OneIn(3)).status().IgnoreError();
  }
}

void NemesisWorker::ReadStep() {
  const uint64_t which = rnd_.Uniform(3);
  std::string key;
  if (which == 0) {
    key = "reg-" + std::to_string(1 + rnd_.Uniform(static_cast<uint64_t>(shared_->workers))) + "-" +
          std::to_string(rnd_.Uniform(kRegistersPerWorker));
  } else if (which == 1) {
    key = SetKey(static_cast<int>(rnd_.Uniform(kSetSlots)));
  } else {
    key = "del-" + std::to_string(rnd_.Uniform(kDeleteKeys));
  }
  Get(key, AnyLevel(), rnd_.OneIn(2)).status().IgnoreError();
}

base::Result<ReadResult> NemesisWorker::Get(const std::string& key, uint8_t r, bool strict) {
  HistoryWriter* h = shared_->history;
  shared_->ledger->Touched(key);
  PendingRead op = h->InvokeGet(process_, key, {.r = LevelOfConsistencyByte(r), .strict = strict});
  shared_->counts->reads++;
  auto got = AnyCoordinator().Read(key, r, strict ? net::kGetFlagStrict : 0);
  if (!got.ok()) {
    if (IndeterminateOutcome(got.status())) h->Info(std::move(op), got.status().ToString());
    else h->Fail(std::move(op), got.status().ToString());
    return got;
  }
  shared_->counts->reads_ok++;
  h->Ok(std::move(op), got->found ? ReadValuesOf(*got) : std::vector<ReadValue>(),
        HistoryContextOfClientContext(key, got->context));
  return got;
}

void NemesisWorker::Complete(PendingWrite&& op, const std::string& key, const std::string& value,
                             const base::Result<WriteResult>& r) {
  HistoryWriter* h = shared_->history;
  shared_->ledger->Completed(key, value, r.ok());
  if (r.ok()) {
    shared_->counts->writes_ok++;
    h->Ok(std::move(op), r->dot, r->acks);
  } else if (IndeterminateOutcome(r.status())) {
    shared_->counts->writes_unknown++;
    h->Info(std::move(op), r.status().ToString());
  } else {
    shared_->counts->writes_failed++;
    h->Fail(std::move(op), r.status().ToString());
  }
}

base::Result<WriteResult> NemesisWorker::Put(const std::string& key, const std::string& value,
                                             const std::string& context, uint8_t w, bool strict) {
  const WriteParams params{.overwrite = context.empty(), .w = LevelOfConsistencyByte(w), .strict = strict};
  shared_->ledger->Invoked(key, value);
  PendingWrite op = shared_->history->InvokePut(process_, key, value, HistoryContextOfClientContext(key, context),
                                                params);
  shared_->counts->writes++;
  auto r = AnyCoordinator().Put(key, value, w, context, strict ? net::kWriteFlagStrict : 0);
  Complete(std::move(op), key, value, r);
  return r;
}

base::Result<WriteResult> NemesisWorker::Delete(const std::string& key, const std::string& context, uint8_t w,
                                                bool strict) {
  const WriteParams params{.overwrite = context.empty(), .w = LevelOfConsistencyByte(w), .strict = strict};
  shared_->ledger->Invoked(key, "");
  PendingWrite op =
      shared_->history->InvokeDelete(process_, key, HistoryContextOfClientContext(key, context), params);
  shared_->counts->writes++;
  shared_->counts->deletes++;
  auto r = AnyCoordinator().Delete(key, w, context, strict ? net::kWriteFlagStrict : 0);
  Complete(std::move(op), key, "", r);
  return r;
}

}  // namespace kvring::test
