#include "cmd/kvnode/node.h"

#include "net/socket.h"
#include "repl/messages.h"

namespace kvring::cmd::kvnode {

using base::Status;

namespace {

uint8_t ConsistencyOrQuorum(const std::string& text) {
  uint8_t level = net::kConsistencyQuorum;
  net::ParseConsistency(text, &level);  // validated by ValidateNodeConfig
  return level;
}

// How often the static membership asks its seeds and members for their lists.
constexpr uint64_t kMembershipPollMicros = 1'000'000;

}  // namespace

Node::Node(NodeConfig config, base::Logger* logger) : config_(std::move(config)), logger_(logger) {}

Node::~Node() { Stop().IgnoreError(); }

Status Node::BeginNodeState() {
  base::Env* env = base::Env::Default();
  KV_RETURN_IF_ERROR(env->CreateDir(config_.data_dir));
  const bool has_data = env->FileExists(base::JoinPath(config_.data_dir, "db/CURRENT"));
  state_ = std::make_unique<repl::NodeStateFile>(env, base::JoinPath(config_.data_dir, repl::kNodeStateFileName));
  auto state = state_->Begin(config_.id, config_.new_epoch, has_data,
                             repl::WallSeconds(base::SystemClock::Get()->WallMicros()));
  if (!state.ok()) return state.status();
  if (state_->epoch_raised()) {
    LOG_WARN(logger_, "start %llu: the last run did not stop cleanly (or --new-epoch): writes are coordinated "
             "under the new actor %s, so no dot of a write lost with an unsynced tail is minted again",
             static_cast<unsigned long long>(state->generation), repl::ActorId(config_.id, state->epoch).c_str());
  }
  return Status::OK();
}

Status Node::OpenEngine() {
  lsm::Options options;
  options.logger = logger_;
  options.sync_mode = config_.sync;
  options.sync_interval_ms = static_cast<uint32_t>(config_.sync_interval_ms);
  // Without --sync always, the loop hands the WAL buffer to the OS once per
  // iteration, before any reply leaves (FlushWalBeforeReplies).
  options.manual_wal_flush = config_.sync != lsm::SyncMode::kAlways;
  options.memtable_bytes = config_.memtable_bytes;
  options.block_cache_bytes = config_.cache_bytes;
  options.max_open_files = static_cast<int>(config_.max_open_files);
  const std::string dir = base::JoinPath(config_.data_dir, "db");
  Status s = lsm::DB::Open(options, dir, &db_);
  if (s.IsBusy()) {
    return Status::Busy("data directory " + config_.data_dir + " is in use by another kvnode (" + s.message() + ")");
  }
  return s.WithContext("open engine in " + dir);
}

Status Node::BuildRing() {
  ring::RingOptions options;
  options.vnodes_per_weight = static_cast<uint32_t>(config_.vnodes);
  if (!config_.replication.empty()) {
    auto spec = ring::ReplicationSpec::Parse(config_.replication);
    if (!spec.ok()) return spec.status().WithContext("--replication");
    options.replication = spec.value();
  } else {
    if (config_.n > ring::kMaxReplicas) {
      return Status::InvalidArgument("--n " + std::to_string(config_.n) + " exceeds the maximum of " +
                                     std::to_string(ring::kMaxReplicas));
    }
    options.replication = ring::ReplicationSpec::Total(static_cast<int>(config_.n));
  }
  view_ = std::make_unique<ring::RingHolder>(options);
  return Status::OK();
}

Status Node::Start() {
  KV_RETURN_IF_ERROR(BuildRing());
  KV_RETURN_IF_ERROR(BeginNodeState());
  KV_RETURN_IF_ERROR(OpenEngine());
  io_ = std::make_unique<base::ThreadPool>(static_cast<int>(config_.io_threads));
  repl::VersioningOptions versioning;
  versioning.max_siblings = static_cast<size_t>(config_.max_siblings);
  versioning.warn_siblings = versioning.max_siblings / 2;
  // A set must fit a frame even merged with another replica's: a quarter keeps
  // two full sets plus a GET reply's framing well inside --max-frame.
  const size_t max_set_bytes = static_cast<size_t>(config_.max_frame_bytes / 4);
  const std::string actor = repl::ActorId(config_.id, state_->state().epoch);
  store_ = std::make_unique<repl::ReplicaStore>(db_.get(), io_.get(), actor, versioning, max_set_bytes,
                                                base::SystemClock::Get(), logger_);
  service_ = std::make_unique<NodeService>();

  net::ServerOptions server_options;
  server_options.listen = config_.listen;
  server_options.cluster = config_.cluster;
  server_options.node_id = config_.id;
  server_options.max_connections = static_cast<size_t>(config_.max_connections);
  server_options.idle_timeout_ms = static_cast<uint64_t>(config_.idle_timeout_s) * 1000;
  server_options.connection.max_frame_bytes = static_cast<uint32_t>(config_.max_frame_bytes);
  server_options.logger = logger_;
  server_options.loops = static_cast<int>(config_.loops);
  server_ = std::make_unique<net::Server>(server_options, service_.get());
  KV_RETURN_IF_ERROR(server_->Start());
  running_ = true;
  loops_.resize(static_cast<size_t>(server_->loop_count()));
  NodeParts parts;
  parts.config = &config_;
  parts.db = db_.get();
  parts.store = store_.get();
  parts.view = view_.get();
  parts.logger = logger_;
  for (int i = 0; i < server_->loop_count(); i++) {
    server_->loop(i)->RunSync([this, i] { WireLoop(i); });
    PerLoop& pl = loops_[static_cast<size_t>(i)];
    parts.loops.push_back({server_->loop(i), pl.coordinator.get(), pl.transport.get(), pl.executor.get()});
  }
  server_->loop(0)->RunSync([this] { StartMembership(); });
  parts.membership = membership_.get();
  service_->Attach(std::move(parts), server_.get());
  LOG_INFO(logger_, "kvnode %s serving on %s (cluster %s, data %s, sync %s, ring %s, %d loops, generation %llu, actor %s)",
           config_.id.c_str(), server_->address().ToString().c_str(), config_.cluster.c_str(),
           config_.data_dir.c_str(), lsm::SyncModeName(config_.sync),
           view_->Current()->replication().ToString().c_str(), server_->loop_count(),
           static_cast<unsigned long long>(state_->state().generation), store_->self().c_str());
  return Status::OK();
}

void Node::FlushWalBeforeReplies(net::EventLoop* loop) {
  // One write() for every record the iteration's writes buffered; their
  // completions (queued by the flush) then run here, so the reply hooks after
  // this one send their replies in this same pass. Completions that write again
  // buffer more: a few rounds settle it (one is the rule).
  for (int round = 0; round < 8; round++) {
    db_->FlushWal().IgnoreError();  // logged by the engine; the writes' callbacks carry it
    if (!loop->HasQueued()) return;
    loop->RunQueued();
  }
}

void Node::WireLoop(int index) {
  net::EventLoop* loop = server_->loop(index);
  if (config_.sync != lsm::SyncMode::kAlways) {
    loop->AddBeforeSleep([this, loop] { FlushWalBeforeReplies(loop); }, net::EventLoop::HookOrder::kFirst);
  }
  PerLoop& pl = loops_[static_cast<size_t>(index)];
  net::RpcClientOptions rpc_options;
  rpc_options.cluster = config_.cluster;
  rpc_options.id = config_.id;
  rpc_options.role = net::PeerRole::kNode;
  rpc_options.source_address = config_.listen;  // peers see us coming from our own address
  rpc_options.max_frame_bytes = static_cast<uint32_t>(config_.max_frame_bytes);
  pl.rpc = std::make_unique<net::RpcClient>(loop, rpc_options, logger_);
  pl.executor = std::make_unique<LoopExecutor>(loop);
  pl.transport = std::make_unique<RpcTransport>(pl.rpc.get(), loop);

  repl::CoordinatorOptions coordinator_options;
  coordinator_options.self = config_.id;
  coordinator_options.default_r = ConsistencyOrQuorum(config_.r);
  coordinator_options.default_w = ConsistencyOrQuorum(config_.w);
  coordinator_options.request_timeout_ms = static_cast<uint64_t>(config_.request_timeout_ms);
  pl.coordinator = std::make_unique<repl::Coordinator>(coordinator_options, view_.get(), store_.get(),
                                                       pl.transport.get(), pl.executor.get(),
                                                       base::SystemClock::Get(), logger_);
}

void Node::StartMembership() {
  net::EventLoop* loop = server_->loop(0);
  ring::NodeInfo self;
  self.id = config_.id;
  self.address = config_.listen;
  self.dc = config_.dc;
  self.rack = config_.rack;
  self.weight = config_.weight;
  membership_ = std::make_unique<repl::StaticMembership>(self, config_.seeds, view_.get(),
                                                         loops_.front().transport.get(), base::Env::Default(),
                                                         base::JoinPath(config_.data_dir, "members"), logger_);
  Status s = membership_->Load();
  if (!s.ok()) LOG_ERROR(logger_, "member list: %s (starting from the seeds alone)", s.ToString().c_str());
  if (!config_.seeds.empty()) {
    membership_->Poll(config_.request_timeout_ms);
    loop->RunEvery(kMembershipPollMicros, [this] { membership_->Poll(config_.request_timeout_ms); });
  }
}

Status Node::Stop() {
  if (!running_) return Status::OK();
  running_ = false;
  LOG_INFO(logger_, "kvnode %s stopping: draining in-flight requests", config_.id.c_str());
  server_->Shutdown(/*drain_timeout_ms=*/5000);
  io_.reset();  // runs what is queued; callbacks queue onto the stopped loop (never run)
  Status s = db_->Flush();
  if (s.ok()) s = db_->SyncWal();
  if (!s.ok()) LOG_ERROR(logger_, "final flush failed: %s (the WAL still holds every write)", s.ToString().c_str());
  db_.reset();
  // Only a stop that made every write durable may keep the actor epoch.
  if (s.ok()) s = state_->MarkClean();
  membership_.reset();
  for (PerLoop& pl : loops_) {
    pl.coordinator.reset();
    pl.transport.reset();
    pl.rpc.reset();
  }
  server_.reset();
  LOG_INFO(logger_, "kvnode %s stopped", config_.id.c_str());
  return s;
}

}  // namespace kvring::cmd::kvnode
