#include "test/util/history.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "net/protocol.h"
#include "repl/client_context.h"
#include "test/util/json.h"

namespace kvring::test {

using base::Status;

bool Covers(const HistoryContext& context, const repl::Dot& dot) {
  auto it = context.find(dot.node);
  return it != context.end() && it->second >= dot.counter;
}

HistoryContext ContextOf(const repl::VersionVector& vv) {
  HistoryContext out;
  for (const repl::VersionVector::Entry& e : vv.entries()) out[e.node] = e.counter;
  return out;
}

std::optional<HistoryContext> HistoryContextOfClientContext(std::string_view key, std::string_view context) {
  if (context.empty()) return std::nullopt;
  base::Result<repl::VersionVector> vv = repl::DecodeClientContext(repl::ContextKey::Default(), key, context);
  if (!vv.ok()) return std::nullopt;
  return ContextOf(*vv);
}

ConsistencyLevel LevelOfConsistencyByte(uint8_t level) {
  if (level == net::kConsistencyQuorum) return ConsistencyLevel::Quorum();
  if (level == net::kConsistencyAll) return ConsistencyLevel::All();
  return ConsistencyLevel(level);
}

bool IndeterminateOutcome(const base::Status& s) { return s.IsTimedOut() || s.IsAborted() || s.IsUnavailable(); }

namespace {

JsonValue ContextJson(const HistoryContext& context) {
  JsonValue obj = JsonValue::EmptyObject();
  for (const auto& [node, counter] : context) obj.Set(node, JsonValue::Int(static_cast<int64_t>(counter)));
  return obj;
}

std::string DotString(const repl::Dot& dot) { return dot.node + ":" + std::to_string(dot.counter); }

}  // namespace

std::string ContextText(const HistoryContext& context) { return JsonText(ContextJson(context)); }

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kInvoke: return "invoke";
    case EventType::kOk: return "ok";
    case EventType::kFail: return "fail";
    case EventType::kInfo: return "info";
  }
  return "?";
}

const char* OpKindName(OpKind op) {
  switch (op) {
    case OpKind::kPut: return "put";
    case OpKind::kDelete: return "delete";
    case OpKind::kGet: return "get";
  }
  return "?";
}

std::optional<int> ConsistencyLevel::Resolve(int n) const {
  switch (kind_) {
    case Kind::kUnset: return std::nullopt;
    case Kind::kNumber: return number_;
    case Kind::kOne: return 1;
    case Kind::kQuorum: return n > 0 ? std::optional<int>(n / 2 + 1) : std::nullopt;
    case Kind::kAll: return n > 0 ? std::optional<int>(n) : std::nullopt;
  }
  return std::nullopt;
}

std::string ConsistencyLevel::ToString() const {
  switch (kind_) {
    case Kind::kUnset: return "unset";
    case Kind::kNumber: return std::to_string(number_);
    case Kind::kOne: return "one";
    case Kind::kQuorum: return "quorum";
    case Kind::kAll: return "all";
  }
  return "?";
}

// --- Writing lines ----------------------------------------------------------------

namespace {

// Unset levels are left out of the line.
void SetLevel(JsonValue* obj, std::string_view name, const ConsistencyLevel& level) {
  if (level.unset()) return;
  if (level.kind() == ConsistencyLevel::Kind::kNumber) {
    obj->Set(name, JsonValue::Int(level.number()));
  } else {
    obj->Set(name, JsonValue::String(level.ToString()));
  }
}

JsonValue OptionalContextJson(const std::optional<HistoryContext>& context) {
  return context.has_value() ? ContextJson(*context) : JsonValue();
}

void SetInvokeFields(const HistoryEvent& e, JsonValue* obj) {
  if (e.op == OpKind::kPut) obj->Set("value", JsonValue::String(e.value));
  if (e.is_write()) {
    obj->Set("context", OptionalContextJson(e.context));
    obj->Set("overwrite", JsonValue::Bool(e.overwrite));
    SetLevel(obj, "w", e.w);
  } else {
    SetLevel(obj, "r", e.r);
  }
  obj->Set("strict", JsonValue::Bool(e.strict));
  obj->Set("session", JsonValue::Bool(e.session));
  if (!e.is_write()) obj->Set("final", JsonValue::Bool(e.final_read));
}

void SetOkFields(const HistoryEvent& e, JsonValue* obj) {
  if (e.is_write()) {
    obj->Set("dot", JsonValue::String(DotString(e.dot)));
    if (!e.acks.empty()) {
      JsonValue acks = JsonValue::EmptyArray();
      for (const std::string& a : e.acks) acks.Append(JsonValue::String(a));
      obj->Set("acks", std::move(acks));
    }
    return;
  }
  JsonValue values = JsonValue::EmptyArray();
  for (const ReadValue& v : e.values) {
    JsonValue item = JsonValue::EmptyObject();
    item.Set("value", JsonValue::String(v.value));
    item.Set("dot", JsonValue::String(DotString(v.dot)));
    values.Append(std::move(item));
  }
  obj->Set("values", std::move(values));
  obj->Set("context", OptionalContextJson(e.context));
}

}  // namespace

std::string HeaderJson(const HistoryHeader& header) {
  JsonValue obj = JsonValue::EmptyObject();
  obj.Set("type", JsonValue::String("header"));
  obj.Set("version", JsonValue::Int(header.version));
  obj.Set("n", JsonValue::Int(header.n));
  obj.Set("max_siblings", JsonValue::Int(header.max_siblings));
  obj.Set("note", JsonValue::String(header.note));
  return JsonText(obj);
}

std::string EventJson(const HistoryEvent& e) {
  JsonValue obj = JsonValue::EmptyObject();
  obj.Set("type", JsonValue::String(EventTypeName(e.type)));
  obj.Set("process", JsonValue::Int(e.process));
  obj.Set("op", JsonValue::String(OpKindName(e.op)));
  obj.Set("key", JsonValue::String(e.key));
  obj.Set("time_us", JsonValue::Int(static_cast<int64_t>(e.time_us)));
  switch (e.type) {
    case EventType::kInvoke: SetInvokeFields(e, &obj); break;
    case EventType::kOk: SetOkFields(e, &obj); break;
    case EventType::kFail:
    case EventType::kInfo: obj.Set("error", JsonValue::String(e.error)); break;
  }
  return JsonText(obj);
}

// --- Reading lines ----------------------------------------------------------------

namespace {

Status FieldError(std::string_view name, std::string_view what) {
  return Status::InvalidArgument("field \"" + std::string(name) + "\": " + std::string(what));
}

Status WrongType(std::string_view name, const char* want, const JsonValue& got) {
  return FieldError(name, std::string("want ") + want + ", got " + JsonValue::TypeName(got.type()));
}

Status RequiredString(const JsonValue& obj, std::string_view name, std::string* out) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr) return FieldError(name, "missing");
  if (!v->is_string()) return WrongType(name, "a string", *v);
  *out = v->string_value();
  return Status::OK();
}

Status OptionalString(const JsonValue& obj, std::string_view name, std::string* out) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (!v->is_string()) return WrongType(name, "a string", *v);
  *out = v->string_value();
  return Status::OK();
}

Status RequiredInt(const JsonValue& obj, std::string_view name, int64_t min, int64_t* out) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr) return FieldError(name, "missing");
  if (!v->is_int()) return WrongType(name, "an integer", *v);
  if (v->int_value() < min) return FieldError(name, "below " + std::to_string(min));
  *out = v->int_value();
  return Status::OK();
}

// Absent or null: false.
Status OptionalBool(const JsonValue& obj, std::string_view name, bool* out) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (!v->is_bool()) return WrongType(name, "true or false", *v);
  *out = v->bool_value();
  return Status::OK();
}

// A number >= 1, or "one"/"quorum"/"all" (any case); absent or null: unset.
Status OptionalLevel(const JsonValue& obj, std::string_view name, ConsistencyLevel* out) {
  const JsonValue* v = obj.Find(name);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (v->is_int()) {
    if (v->int_value() < 1 || v->int_value() > 1'000'000) return FieldError(name, "want a replica count >= 1");
    *out = ConsistencyLevel(static_cast<int>(v->int_value()));
    return Status::OK();
  }
  if (!v->is_string()) return WrongType(name, "a number or \"one\", \"quorum\", \"all\"", *v);
  std::string s = v->string_value();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "one") {
    *out = ConsistencyLevel::One();
  } else if (s == "quorum") {
    *out = ConsistencyLevel::Quorum();
  } else if (s == "all") {
    *out = ConsistencyLevel::All();
  } else {
    return FieldError(name, "unknown level \"" + v->string_value() + "\" (want a number, one, quorum or all)");
  }
  return Status::OK();
}

// "node:counter", split on the last ':'; node non-empty, counter >= 1.
Status ParseDot(std::string_view name, std::string_view text, repl::Dot* out) {
  const size_t colon = text.rfind(':');
  const std::string_view digits = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  const auto bad = [&] {
    return FieldError(name, "bad dot \"" + std::string(text) + "\" (want node:counter, counter >= 1)");
  };
  if (colon == std::string_view::npos || colon == 0 || digits.empty() || digits.size() > 19) return bad();
  uint64_t counter = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return bad();
    counter = counter * 10 + static_cast<uint64_t>(c - '0');
  }
  if (counter == 0) return bad();
  out->node = std::string(text.substr(0, colon));
  out->counter = counter;
  return Status::OK();
}

Status RequiredDot(const JsonValue& obj, std::string_view name, repl::Dot* out) {
  std::string text;
  KV_RETURN_IF_ERROR(RequiredString(obj, name, &text));
  return ParseDot(name, text, out);
}

// An object of node → counter >= 0, or null (nullopt). Absent: nullopt. Zero
// counters are dropped (an absent node means 0).
Status OptionalContext(const JsonValue& obj, std::string_view name, std::optional<HistoryContext>* out) {
  const JsonValue* v = obj.Find(name);
  out->reset();
  if (v == nullptr || v->is_null()) return Status::OK();
  if (!v->is_object()) return WrongType(name, "an object (node: counter) or null", *v);
  HistoryContext context;
  for (const JsonValue::Member& m : v->members()) {
    if (m.first.empty()) return FieldError(name, "empty node id");
    if (!m.second.is_int() || m.second.int_value() < 0) {
      return FieldError(name, "node \"" + m.first + "\": want a counter >= 0");
    }
    if (m.second.int_value() > 0) context[m.first] = static_cast<uint64_t>(m.second.int_value());
  }
  *out = std::move(context);
  return Status::OK();
}

Status ParseInvoke(const JsonValue& obj, HistoryEvent* e) {
  if (e->op == OpKind::kPut) KV_RETURN_IF_ERROR(RequiredString(obj, "value", &e->value));
  KV_RETURN_IF_ERROR(OptionalBool(obj, "strict", &e->strict));
  KV_RETURN_IF_ERROR(OptionalBool(obj, "session", &e->session));
  if (e->is_write()) {
    KV_RETURN_IF_ERROR(OptionalContext(obj, "context", &e->context));
    KV_RETURN_IF_ERROR(OptionalBool(obj, "overwrite", &e->overwrite));
    return OptionalLevel(obj, "w", &e->w);
  }
  KV_RETURN_IF_ERROR(OptionalLevel(obj, "r", &e->r));
  return OptionalBool(obj, "final", &e->final_read);
}

Status ParseReadValues(const JsonValue& obj, HistoryEvent* e) {
  const JsonValue* values = obj.Find("values");
  if (values == nullptr) return FieldError("values", "missing");
  if (!values->is_array()) return WrongType("values", "an array", *values);
  for (size_t i = 0; i < values->array().size(); ++i) {
    const JsonValue& item = values->array()[i];
    const std::string name = "values[" + std::to_string(i) + "]";
    if (!item.is_object()) return WrongType(name, "an object {\"value\",\"dot\"}", item);
    ReadValue rv;
    Status s = RequiredString(item, "value", &rv.value);
    if (s.ok()) s = RequiredDot(item, "dot", &rv.dot);
    if (!s.ok()) return Status::InvalidArgument(name + ": " + s.message());
    e->values.push_back(std::move(rv));
  }
  return OptionalContext(obj, "context", &e->context);
}

Status ParseOk(const JsonValue& obj, HistoryEvent* e) {
  if (!e->is_write()) return ParseReadValues(obj, e);
  KV_RETURN_IF_ERROR(RequiredDot(obj, "dot", &e->dot));
  const JsonValue* acks = obj.Find("acks");
  if (acks == nullptr || acks->is_null()) return Status::OK();
  if (!acks->is_array()) return WrongType("acks", "an array of node ids", *acks);
  for (const JsonValue& a : acks->array()) {
    if (!a.is_string()) return WrongType("acks", "an array of node ids", a);
    e->acks.push_back(a.string_value());
  }
  return Status::OK();
}

Status ParseType(const std::string& type, EventType* out) {
  if (type == "invoke") {
    *out = EventType::kInvoke;
  } else if (type == "ok") {
    *out = EventType::kOk;
  } else if (type == "fail") {
    *out = EventType::kFail;
  } else if (type == "info") {
    *out = EventType::kInfo;
  } else if (type == "header") {
    return FieldError("type", "a header is only allowed on line 1");
  } else {
    return FieldError("type", "unknown type \"" + type + "\" (want invoke, ok, fail or info)");
  }
  return Status::OK();
}

Status ParseOpKind(const std::string& op, OpKind* out) {
  if (op == "put") {
    *out = OpKind::kPut;
  } else if (op == "delete") {
    *out = OpKind::kDelete;
  } else if (op == "get") {
    *out = OpKind::kGet;
  } else {
    return FieldError("op", "unknown op \"" + op + "\" (want put, delete or get)");
  }
  return Status::OK();
}

Status ParseEventObject(const JsonValue& obj, HistoryEvent* e) {
  std::string type;
  std::string op;
  int64_t time_us = 0;
  KV_RETURN_IF_ERROR(RequiredString(obj, "type", &type));
  KV_RETURN_IF_ERROR(ParseType(type, &e->type));
  KV_RETURN_IF_ERROR(RequiredInt(obj, "process", INT64_MIN, &e->process));
  KV_RETURN_IF_ERROR(RequiredString(obj, "op", &op));
  KV_RETURN_IF_ERROR(ParseOpKind(op, &e->op));
  KV_RETURN_IF_ERROR(RequiredString(obj, "key", &e->key));
  KV_RETURN_IF_ERROR(RequiredInt(obj, "time_us", 0, &time_us));
  e->time_us = static_cast<uint64_t>(time_us);
  switch (e->type) {
    case EventType::kInvoke: return ParseInvoke(obj, e);
    case EventType::kOk: return ParseOk(obj, e);
    case EventType::kFail:
    case EventType::kInfo: return OptionalString(obj, "error", &e->error);
  }
  return Status::OK();
}

Status ParseHeaderObject(const JsonValue& obj, HistoryHeader* h) {
  std::string type;
  KV_RETURN_IF_ERROR(RequiredString(obj, "type", &type));
  if (type != "header") return FieldError("type", "line 1 must be the header (want \"header\", got \"" + type + "\")");
  int64_t version = 0;
  int64_t n = 0;
  int64_t max_siblings = 0;
  KV_RETURN_IF_ERROR(RequiredInt(obj, "version", 0, &version));
  if (version != kHistoryVersion) {
    return FieldError("version", "unsupported history version " + std::to_string(version) + " (this reader knows " +
                                     std::to_string(kHistoryVersion) + ")");
  }
  if (obj.Find("n") != nullptr) KV_RETURN_IF_ERROR(RequiredInt(obj, "n", 0, &n));
  if (obj.Find("max_siblings") != nullptr) KV_RETURN_IF_ERROR(RequiredInt(obj, "max_siblings", 0, &max_siblings));
  if (n > 1'000'000 || max_siblings > 1'000'000'000) return FieldError("n", "implausibly large");
  h->version = static_cast<int>(version);
  h->n = static_cast<int>(n);
  h->max_siblings = static_cast<int>(max_siblings);
  return OptionalString(obj, "note", &h->note);
}

Status ParseObjectLine(std::string_view line, JsonValue* obj) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return Status::InvalidArgument("empty line");
  base::Result<JsonValue> parsed = ParseJson(line);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return Status::InvalidArgument("want a JSON object, got " +
                                                           std::string(JsonValue::TypeName(parsed->type())));
  *obj = std::move(parsed).value();
  return Status::OK();
}

}  // namespace

base::Result<History> ParseHistory(std::string_view text) {
  History history;
  if (text.empty()) return Status::InvalidArgument("line 1: empty file (want a header line)");
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string where = "line " + std::to_string(line_no);
    JsonValue obj;
    Status s = ParseObjectLine(line, &obj);
    if (s.ok() && line_no == 1) s = ParseHeaderObject(obj, &history.header);
    if (s.ok() && line_no > 1) {
      HistoryEvent e;
      e.line = line_no;
      s = ParseEventObject(obj, &e);
      if (s.ok()) history.events.push_back(std::move(e));
    }
    if (!s.ok()) return Status::InvalidArgument(where + ": " + s.message());
  }
  return history;
}

base::Result<History> ReadHistory(const std::string& path, base::Env* env) {
  std::string data;
  Status s = base::ReadFileToString(env, path, &data);
  if (!s.ok()) return s.WithContext(path);
  base::Result<History> h = ParseHistory(data);
  if (!h.ok()) return h.status().WithContext(path);
  return h;
}

// --- The writer -------------------------------------------------------------------

struct HistoryWriterState {
  mutable std::mutex mu;
  const base::Clock* clock = nullptr;
  std::unique_ptr<base::WritableFile> file;  // null: in memory only
  bool closed = false;
  Status status;                            // the first error
  History history;
  uint64_t last_time_us = 0;
  std::map<int64_t, int> outstanding;  // process → line of its outstanding invoke

  void SetErrorLocked(const Status& s) {
    if (status.ok()) status = s;
  }

  // Stamps, numbers, writes and keeps one event; returns its line (0 when closed).
  int AppendLocked(HistoryEvent e) {
    if (closed) return 0;
    last_time_us = std::max(last_time_us, clock->NowMicros());
    e.time_us = last_time_us;
    e.line = static_cast<int>(history.events.size()) + 2;
    if (file != nullptr) {
      Status s = file->Append(EventJson(e) + "\n");
      if (s.ok()) s = file->Flush();
      if (!s.ok()) SetErrorLocked(s.WithContext("history writer"));
    }
    history.events.push_back(std::move(e));
    return history.events.back().line;
  }

  int Invoke(HistoryEvent e) {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) {
      SetErrorLocked(Status::InvalidArgument("history writer: invoke after Close"));
      return 0;
    }
    const int64_t process = e.process;
    const int line = AppendLocked(std::move(e));
    auto [it, inserted] = outstanding.emplace(process, line);
    if (!inserted) {
      SetErrorLocked(Status::InvalidArgument("history writer: process " + std::to_string(process) +
                                             " invoked an op (line " + std::to_string(line) +
                                             ") while its op of line " + std::to_string(it->second) +
                                             " was outstanding"));
      it->second = line;
    }
    return line;
  }

  // `e` has type and outcome fields; process, op and key come from the handle.
  void Complete(int64_t process, int invoke_line, HistoryEvent e) {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;
    auto it = outstanding.find(process);
    if (it != outstanding.end() && it->second == invoke_line) outstanding.erase(it);
    AppendLocked(std::move(e));
  }
};

PendingOp::PendingOp(std::shared_ptr<HistoryWriterState> state, int64_t process, OpKind op, std::string key,
                     int invoke_line)
    : state_(std::move(state)), process_(process), op_(op), key_(std::move(key)), invoke_line_(invoke_line) {}

PendingOp::PendingOp(PendingOp&& other) noexcept
    : state_(std::move(other.state_)),
      process_(other.process_),
      op_(other.op_),
      key_(std::move(other.key_)),
      invoke_line_(other.invoke_line_) {
  other.state_.reset();
}

PendingOp& PendingOp::operator=(PendingOp&& other) noexcept {
  if (this != &other) {
    Abandon();
    state_ = std::move(other.state_);
    other.state_.reset();
    process_ = other.process_;
    op_ = other.op_;
    key_ = std::move(other.key_);
    invoke_line_ = other.invoke_line_;
  }
  return *this;
}

PendingOp::~PendingOp() { Abandon(); }

void PendingOp::Abandon() {
  if (state_ == nullptr) return;
  HistoryEvent e;
  e.type = EventType::kInfo;
  e.process = process_;
  e.op = op_;
  e.key = key_;
  e.error = "abandoned: the op handle was dropped without a completion";
  std::shared_ptr<HistoryWriterState> state = std::move(state_);
  state_.reset();
  state->Complete(process_, invoke_line_, std::move(e));
}

base::Result<std::unique_ptr<HistoryWriter>> HistoryWriter::Create(const std::string& path,
                                                                   const HistoryHeader& header,
                                                                   const base::Clock* clock, base::Env* env) {
  auto state = std::make_shared<HistoryWriterState>();
  state->clock = clock;
  state->history.header = header;
  Status s = env->NewWritableFile(path, &state->file);
  if (s.ok()) s = state->file->Append(HeaderJson(header) + "\n");
  if (s.ok()) s = state->file->Flush();
  if (!s.ok()) return s.WithContext("history " + path);
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(std::move(state)));
}

std::unique_ptr<HistoryWriter> HistoryWriter::InMemory(const HistoryHeader& header, const base::Clock* clock) {
  auto state = std::make_shared<HistoryWriterState>();
  state->clock = clock;
  state->history.header = header;
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(std::move(state)));
}

HistoryWriter::~HistoryWriter() { Close().IgnoreError(); }

namespace {

HistoryEvent InvokeEvent(int64_t process, OpKind op, std::string_view key) {
  HistoryEvent e;
  e.type = EventType::kInvoke;
  e.process = process;
  e.op = op;
  e.key = std::string(key);
  return e;
}

void SetWriteParams(const std::optional<HistoryContext>& context, const WriteParams& params, HistoryEvent* e) {
  e->context = context;
  e->overwrite = params.overwrite;
  e->w = params.w;
  e->strict = params.strict;
  e->session = params.session;
}

bool ValidDot(const repl::Dot& dot) { return !dot.node.empty() && dot.counter >= 1; }

}  // namespace

PendingWrite HistoryWriter::InvokePut(int64_t process, std::string_view key, std::string_view value,
                                      const std::optional<HistoryContext>& context, const WriteParams& params) {
  HistoryEvent e = InvokeEvent(process, OpKind::kPut, key);
  e.value = std::string(value);
  SetWriteParams(context, params, &e);
  const int line = state_->Invoke(std::move(e));
  return PendingWrite(state_, process, OpKind::kPut, std::string(key), line);
}

PendingWrite HistoryWriter::InvokeDelete(int64_t process, std::string_view key,
                                         const std::optional<HistoryContext>& context, const WriteParams& params) {
  HistoryEvent e = InvokeEvent(process, OpKind::kDelete, key);
  SetWriteParams(context, params, &e);
  const int line = state_->Invoke(std::move(e));
  return PendingWrite(state_, process, OpKind::kDelete, std::string(key), line);
}

PendingRead HistoryWriter::InvokeGet(int64_t process, std::string_view key, const ReadParams& params) {
  HistoryEvent e = InvokeEvent(process, OpKind::kGet, key);
  e.r = params.r;
  e.strict = params.strict;
  e.session = params.session;
  e.final_read = params.final_read;
  const int line = state_->Invoke(std::move(e));
  return PendingRead(state_, process, OpKind::kGet, std::string(key), line);
}

bool HistoryWriter::Consume(PendingOp* op, const char* what, HistoryEvent* event) {
  if (op->state_ != state_) {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->SetErrorLocked(Status::InvalidArgument(
        std::string("history writer: ") + what +
        (op->state_ == nullptr ? " through a handle that is not pending (completed twice, or moved from)"
                               : " through a handle of another writer")));
    return false;
  }
  op->state_.reset();
  event->process = op->process_;
  event->op = op->op_;
  event->key = op->key_;
  return true;
}

void HistoryWriter::Ok(PendingWrite&& op, const repl::Dot& dot, const std::vector<std::string>& acks) {
  HistoryEvent e;
  if (!Consume(&op, "Ok", &e)) return;
  e.type = EventType::kOk;
  e.dot = dot;
  e.acks = acks;
  if (!ValidDot(dot)) {
    e.type = EventType::kInfo;
    e.error = "the harness recorded a malformed dot \"" + DotString(dot) + "\"";
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->SetErrorLocked(Status::InvalidArgument("history writer: Ok of a write: " + e.error));
  }
  state_->Complete(e.process, op.invoke_line_, std::move(e));
}

void HistoryWriter::Ok(PendingRead&& op, const std::vector<ReadValue>& values,
                       const std::optional<HistoryContext>& context) {
  HistoryEvent e;
  if (!Consume(&op, "Ok", &e)) return;
  e.type = EventType::kOk;
  e.values = values;
  e.context = context;
  for (const ReadValue& v : values) {
    if (ValidDot(v.dot)) continue;
    e.type = EventType::kInfo;
    e.values.clear();
    e.context.reset();
    e.error = "the harness recorded a value with a malformed dot \"" + DotString(v.dot) + "\"";
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->SetErrorLocked(Status::InvalidArgument("history writer: Ok of a get: " + e.error));
    break;
  }
  state_->Complete(e.process, op.invoke_line_, std::move(e));
}

void HistoryWriter::Fail(PendingOp&& op, std::string_view error) {
  HistoryEvent e;
  if (!Consume(&op, "Fail", &e)) return;
  e.type = EventType::kFail;
  e.error = std::string(error);
  state_->Complete(e.process, op.invoke_line_, std::move(e));
}

void HistoryWriter::Info(PendingOp&& op, std::string_view error) {
  HistoryEvent e;
  if (!Consume(&op, "Info", &e)) return;
  e.type = EventType::kInfo;
  e.error = std::string(error);
  state_->Complete(e.process, op.invoke_line_, std::move(e));
}

Status HistoryWriter::status() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->status;
}

History HistoryWriter::Snapshot() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->history;
}

Status HistoryWriter::Close() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->closed) {
    state_->closed = true;
    if (state_->file != nullptr) {
      Status s = state_->file->Close();
      if (!s.ok()) state_->SetErrorLocked(s.WithContext("history writer: close"));
    }
  }
  return state_->status;
}

}  // namespace kvring::test
