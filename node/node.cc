#include "node/node.h"

#include <algorithm>

#include "net/socket.h"
#include "repl/aae_ranges.h"
#include "repl/key_digest.h"
#include "repl/messages.h"

namespace kvring::node {

using base::Status;

namespace {

uint8_t ConsistencyOrQuorum(const std::string& text) {
  uint8_t level = net::kConsistencyQuorum;
  net::ParseConsistency(text, &level);  // validated by cmd/kvnode's ValidateNodeConfig
  return level;
}


// How often the handoff looks for owners that came back, and old hints are dropped.
constexpr uint64_t kHandoffTickMicros = 100'000;
constexpr uint64_t kHintExpiryMicros = 60'000'000;
// How often a read-only node (full disk) looks for room again.
constexpr uint64_t kDiskCheckMicros = 1'000'000;
// How often anti-entropy starts due comparisons and pumps the running one.
constexpr uint64_t kAntiEntropyTickMicros = 100'000;
// Merkle leaves: 2^16 prefixes (about 15 keys a leaf at 1M keys).
constexpr int kMerkleLeafBits = 16;

repl::DetectorOptions DetectorOptionsOf(const NodeOptions& o) {
  repl::DetectorOptions d;
  d.probe_interval_ms = static_cast<uint64_t>(o.probe_interval_ms);
  d.suspect_after_ms = static_cast<uint64_t>(o.suspect_after_ms);
  d.probe_timeout_ms = static_cast<uint64_t>(o.probe_timeout_ms);
  return d;
}

// Asks the engine to rewrite the tables of `range` holding tombstones the purge
// horizon now lets go (engine keys start with the big-endian token).
void CompactTombstonesOf(lsm::DB* db, const ring::TokenRange& range, uint64_t sequence) {
  for (const repl::PrefixInterval& interval : repl::IntervalsOf(range)) {
    std::string end = interval.end == 0 ? std::string(9, '\xff') : repl::PrefixKey(interval.end);
    db->CompactTombstones(repl::PrefixKey(interval.begin), std::move(end), sequence);
  }
}

}  // namespace

Node::Node(NodeOptions options, NodeEnvironment environment)
    : options_(std::move(options)), env_(environment), logger_(environment.logger), context_key_(options_.cluster) {}

std::string Node::address() const { return server_ != nullptr ? server_->address().ToString() : options_.listen; }

Node::~Node() { Stop().IgnoreError(); }

Status Node::LoadSecret() {
  if (options_.secret_file.empty()) {
    auto listen = net::SocketAddress::Parse(options_.listen);
    if (listen.ok() && !listen->IsLoopback()) {
      return Status::InvalidArgument("--listen " + options_.listen +
                                     " is reachable from other machines and no --secret-file is given: anyone who "
                                     "reaches the port could join the cluster. Give every node the same "
                                     "--secret-file (docs/security.md), or listen on a loopback address");
    }
    LOG_INFO(logger_, "no cluster secret: serving loopback only (protected mode, docs/security.md)");
    return Status::OK();
  }
  auto secret = net::ClusterSecret::FromFile(options_.secret_file);
  if (!secret.ok()) return secret.status();
  secret_ = std::move(secret).value();
  context_key_ = repl::ContextKey(secret_->material());
  return Status::OK();
}

Status Node::LoadUsers() {
  if (options_.users_file.empty()) {
    LOG_INFO(logger_, "no --users-file: clients are not authenticated (any client may read, write and administer)");
    return Status::OK();
  }
  if (!secret_) {
    return Status::InvalidArgument("--users-file needs --secret-file: without the cluster secret a client could "
                                   "say HELLO as a node and skip authentication (docs/security.md)");
  }
  auto users = net::UserTable::FromFile(options_.users_file);
  if (!users.ok()) return users.status();
  users_ = std::move(users).value();
  LOG_INFO(logger_, "clients authenticate: %zu users from %s", users_->size(), options_.users_file.c_str());
  return Status::OK();
}

Status Node::BeginNodeState() {
  base::Env* env = disk_->env();
  KV_RETURN_IF_ERROR(env->CreateDir(options_.data_dir));
  const bool has_data = env->FileExists(base::JoinPath(options_.data_dir, "db/CURRENT"));
  state_ = std::make_unique<repl::NodeStateFile>(env, base::JoinPath(options_.data_dir, repl::kNodeStateFileName));
  auto state = state_->Begin(options_.id, options_.new_epoch, has_data, env_.clock->WallMicros());
  if (!state.ok()) return state.status();
  if (state_->pending()) {
    // Read-only already (the failed write said so): no write is coordinated
    // before this run's generation and epoch are on disk.
    disk_->AddRetry("DATA/node_state (this run's generation and actor epoch)",
                    [this] { return state_->PersistPending(); });
  }
  if (state_->epoch_raised()) {
    LOG_WARN(logger_, "start (generation %llu): the last run did not stop cleanly (or --new-epoch): writes are coordinated "
             "under the new actor %s, so no dot of a write lost with an unsynced tail is minted again",
             static_cast<unsigned long long>(state->generation), repl::ActorId(options_.id, state->epoch).c_str());
  }
  return Status::OK();
}

Status Node::OpenEngine() {
  lsm::Options options;
  options.env = disk_->env();
  options.open_on_full_disk = true;  // read-only until space returns (node/disk_guard.h)
  options.logger = logger_;
  options.sync_mode = options_.sync;
  options.sync_interval_ms = static_cast<uint32_t>(options_.sync_interval_ms);
  // Without --sync always, the loop hands the WAL buffer to the OS once per
  // iteration, before any reply leaves (FlushWalBeforeReplies).
  options.manual_wal_flush = options_.sync != lsm::SyncMode::kAlways;
  options.memtable_bytes = options_.memtable_bytes;
  options.block_cache_bytes = options_.cache_bytes;
  options.max_open_files = static_cast<int>(options_.max_open_files);
  options.compaction_nice = static_cast<int>(options_.compaction_nice);
  // The Merkle index anti-entropy compares (repl/leaf_source.h), over the digest
  // of each key's siblings (repl/key_digest.h).
  options.merkle.leaf_bits = kMerkleLeafBits;
  options.merkle.digest = repl::StoredValueDigest;
  // Tombstones leave only once anti-entropy showed every co-replica agrees.
  horizon_ = std::make_unique<repl::PurgeHorizon>(options_.id, view_.get());
  options.compaction_filter = [horizon = horizon_.get()](std::string_view key, std::string_view value,
                                                         lsm::SequenceNumber seq) {
    return horizon->Purgeable(key, value, seq);
  };
  options.is_tombstone = repl::IsAllTombstones;
  const std::string dir = base::JoinPath(options_.data_dir, "db");
  Status s = lsm::DB::Open(options, dir, &db_);
  if (s.ok()) {
    horizon_->OnRangeClean([db = db_.get()](const ring::TokenRange& range, uint64_t sequence) {
      CompactTombstonesOf(db, range, sequence);
    });
  }
  if (s.IsBusy()) {
    return Status::Busy("data directory " + options_.data_dir + " is in use by another kvnode (" + s.message() + ")");
  }
  return s.WithContext("open engine in " + dir);
}

Status Node::OpenHints() {
  repl::HintStoreOptions options;
  options.dir = base::JoinPath(options_.data_dir, "hints");
  options.sync_mode = options_.sync;  // a hint is as durable as the write it carries
  options.sync_interval_ms = static_cast<uint32_t>(options_.sync_interval_ms);
  options.manual_wal_flush = options_.sync != lsm::SyncMode::kAlways;
  options.open_on_full_disk = true;
  options.max_bytes_per_owner = options_.hint_max_bytes_per_owner;
  options.max_bytes_total = options_.hint_max_bytes_total;
  options.window_micros = static_cast<uint64_t>(options_.hint_window_s) * 1'000'000;
  auto hints = repl::HintStore::Open(options, disk_->env(), env_.clock, io_.get(), logger_);
  if (!hints.ok()) return hints.status().WithContext("open hints in " + options.dir);
  hints_ = std::move(hints).value();
  return Status::OK();
}

Status Node::BuildRing() {
  ring::RingOptions options;
  options.vnodes_per_weight = static_cast<uint32_t>(options_.vnodes);
  if (!options_.replication.empty()) {
    auto spec = ring::ReplicationSpec::Parse(options_.replication);
    if (!spec.ok()) return spec.status().WithContext("--replication");
    options.replication = spec.value();
  } else {
    if (options_.n > ring::kMaxReplicas) {
      return Status::InvalidArgument("--n " + std::to_string(options_.n) + " exceeds the maximum of " +
                                     std::to_string(ring::kMaxReplicas));
    }
    options.replication = ring::ReplicationSpec::Total(static_cast<int>(options_.n));
  }
  view_ = std::make_unique<ring::RingHolder>(options);
  return Status::OK();
}

Status Node::Start() {
  disk_ = std::make_unique<DiskGuard>(env_.env, options_.data_dir, env_.clock, logger_);
  KV_RETURN_IF_ERROR(LoadSecret());
  KV_RETURN_IF_ERROR(LoadUsers());
  KV_RETURN_IF_ERROR(LoadNodeTls(options_, logger_, &tls_));
  KV_RETURN_IF_ERROR(BuildRing());
  KV_RETURN_IF_ERROR(BeginNodeState());
  KV_RETURN_IF_ERROR(OpenEngine());
  KV_RETURN_IF_ERROR(LoadMembershipOperation());
  io_ = std::make_unique<base::ThreadPool>(static_cast<int>(options_.io_threads), "kv-io");
  repl::VersioningOptions versioning;
  versioning.max_siblings = static_cast<size_t>(options_.max_siblings);
  versioning.warn_siblings = versioning.max_siblings / 2;
  // A set must fit a frame even merged with another replica's: a quarter keeps
  // two full sets plus a GET reply's framing well inside --max-frame.
  const size_t max_set_bytes = static_cast<size_t>(options_.max_frame_bytes / 4);
  const std::string actor = repl::ActorId(options_.id, state_->state().epoch);
  store_ = std::make_unique<repl::ReplicaStore>(db_.get(), io_.get(), actor, versioning, max_set_bytes,
                                                env_.clock, logger_);
  KV_RETURN_IF_ERROR(OpenHints());
  io_executor_ = std::make_unique<repl::PoolExecutor>(io_.get());
  leaves_ = std::make_unique<repl::MerkleLeafSource>(db_.get());
  aae_ = std::make_unique<repl::AaeResponder>(
      leaves_.get(), store_.get(), io_executor_.get(),
      repl::PeerSetLimitsFor(options_.max_value_bytes, static_cast<size_t>(options_.max_siblings)));
  stream_source_ = std::make_unique<repl::StreamSource>(db_.get(), io_executor_.get());
  liveness_ = std::make_unique<repl::FailureDetector>(env_.clock, DetectorOptionsOf(options_), options_.id,
                                                      state_->state().generation);
  service_ = std::make_unique<NodeService>();

  net::ServerOptions server_options;
  server_options.listen = options_.listen;
  server_options.cluster = options_.cluster;
  server_options.secret = secret_ ? &*secret_ : nullptr;
  server_options.users = users_ ? &*users_ : nullptr;
  server_options.tls = tls_.server.get();
  server_options.node_id = options_.id;
  server_options.max_connections = static_cast<size_t>(options_.max_connections);
  server_options.idle_timeout_ms = static_cast<uint64_t>(options_.idle_timeout_s) * 1000;
  server_options.connection.max_frame_bytes = static_cast<uint32_t>(options_.max_frame_bytes);
  server_options.connection.high_water_bytes = static_cast<size_t>(options_.reply_soft_limit_bytes);
  server_options.connection.low_water_bytes = static_cast<size_t>(options_.reply_soft_limit_bytes / 4);
  server_options.max_unsent_reply_bytes = static_cast<size_t>(options_.reply_hard_limit_bytes);
  server_options.max_inflight_per_connection = static_cast<size_t>(options_.max_inflight_per_connection);
  server_options.frame_timeout_ms = static_cast<uint64_t>(options_.frame_timeout_ms);
  server_options.hello_timeout_ms = static_cast<uint64_t>(options_.hello_timeout_ms);
  server_options.max_partial_frame_bytes = static_cast<size_t>(options_.max_partial_frame_bytes);
  server_options.logger = logger_;
  server_options.clock = env_.clock;  // the event loops' timers (RPC deadlines, polling) run on it too
  server_options.loops = static_cast<int>(options_.loops);
  server_ = std::make_unique<net::Server>(server_options, service_.get());
  KV_RETURN_IF_ERROR(server_->Start());
  running_ = true;
  loops_.resize(static_cast<size_t>(server_->loop_count()));
  NodeParts parts;
  parts.config = &options_;
  parts.db = db_.get();
  parts.store = store_.get();
  parts.view = view_.get();
  parts.liveness = liveness_.get();
  parts.logger = logger_;
  for (int i = 0; i < server_->loop_count(); i++) {
    server_->loop(i)->RunSync([this, i] { WireLoop(i); });
    PerLoop& pl = loops_[static_cast<size_t>(i)];
    parts.loops.push_back({server_->loop(i), pl.coordinator.get(), pl.executor.get()});
  }
  server_->loop(0)->RunSync([this] { StartMembership(); });
  parts.gossip = gossip_.get();
  parts.prober = prober_.get();
  parts.hints = hints_.get();
  parts.context_key = &context_key_;
  parts.handoff = handoff_.get();
  parts.aae = aae_.get();
  parts.anti_entropy = anti_entropy_.get();
  parts.streams = stream_source_.get();
  parts.pacer = &pacer_;
  parts.membership = membership_.get();
  parts.cleaner = cleaner_.get();
  parts.horizon = horizon_.get();
  parts.generation = state_->state().generation;
  parts.disk = disk_.get();
  service_->Attach(std::move(parts), server_.get());
  LOG_INFO(logger_, "kvnode %s serving on %s (cluster %s, data %s, sync %s, ring %s, %d loops, generation %llu, actor %s)",
           options_.id.c_str(), server_->address().ToString().c_str(), options_.cluster.c_str(),
           options_.data_dir.c_str(), lsm::SyncModeName(options_.sync),
           view_->Current()->replication().ToString().c_str(), server_->loop_count(),
           static_cast<unsigned long long>(state_->state().generation), store_->self().c_str());
  if (disk_->read_only()) {
    LOG_WARN(logger_, "kvnode %s serves reads only: its disk is full (%s); writes are refused until it has room "
             "again", options_.id.c_str(), options_.data_dir.c_str());
  }
  return Status::OK();
}

void Node::FlushWalBeforeReplies(net::EventLoop* loop) {
  // One write() for every record the iteration's writes buffered; their
  // completions (queued by the flush) then run here, so the reply hooks after
  // this one send their replies in this same pass. Completions that write again
  // buffer more: a few rounds settle it (one is the rule).
  for (int round = 0; round < 8; round++) {
    db_->FlushWal().IgnoreError();  // logged by the engine; the writes' callbacks carry it
    hints_->FlushWal().IgnoreError();
    if (!loop->HasQueued()) return;
    loop->RunQueued();
  }
}

void Node::WireLoop(int index) {
  net::EventLoop* loop = server_->loop(index);
  if (options_.sync != lsm::SyncMode::kAlways) {
    loop->AddBeforeSleep([this, loop] { FlushWalBeforeReplies(loop); }, net::EventLoop::HookOrder::kFirst);
  }
  PerLoop& pl = loops_[static_cast<size_t>(index)];
  net::RpcClientOptions rpc_options;
  rpc_options.cluster = options_.cluster;
  rpc_options.secret = secret_ ? &*secret_ : nullptr;
  rpc_options.tls = tls_.peers.get();
  rpc_options.id = options_.id;
  rpc_options.role = net::PeerRole::kNode;
  rpc_options.source_address = options_.listen;  // peers see us coming from our own address
  rpc_options.max_frame_bytes = static_cast<uint32_t>(options_.max_frame_bytes);
  rpc_options.on_peer = ReportPeersTo(liveness_.get());
  rpc_options.last_heard_us = LastHeardFrom(liveness_.get());
  rpc_options.send_delay_ms = env_.send_delay_ms;
  pl.rpc = std::make_unique<net::RpcClient>(loop, rpc_options, logger_);
  pl.executor = std::make_unique<LoopExecutor>(loop);
  pl.transport = std::make_unique<RpcTransport>(pl.rpc.get(), loop);

  repl::CoordinatorOptions coordinator_options;
  coordinator_options.self = options_.id;
  coordinator_options.dc = options_.dc;
  coordinator_options.default_r = ConsistencyOrQuorum(options_.r);
  coordinator_options.default_w = ConsistencyOrQuorum(options_.w);
  coordinator_options.request_timeout_ms = static_cast<uint64_t>(options_.request_timeout_ms);
  coordinator_options.strict_default = options_.strict_quorum;
  coordinator_options.context_key = context_key_;
  coordinator_options.peer_sets =
      repl::PeerSetLimitsFor(options_.max_value_bytes, static_cast<size_t>(options_.max_siblings));
  pl.coordinator = std::make_unique<repl::Coordinator>(coordinator_options, view_.get(), store_.get(),
                                                       pl.transport.get(), liveness_.get(), pl.executor.get(),
                                                       env_.clock, logger_,
                                                       options_.no_hinted_handoff ? nullptr : hints_.get());
}

void Node::StartMembership() {
  net::EventLoop* loop = server_->loop(0);
  ring::NodeInfo self;
  self.id = options_.id;
  self.address = address();  // the bound address (a listen port of 0 picks one)
  self.dc = options_.dc;
  self.rack = options_.rack;
  self.weight = options_.weight;
  self.token_id = options_.replace;  // a replacement holds the dead member's virtual nodes
  repl::GossipOptions gossip;
  gossip.cluster = options_.cluster;
  gossip.self = self;
  gossip.generation = state_->state().generation;
  repl::PersistedOperation op = std::move(membership_op_);
  const bool joins = options_.join || !options_.replace.empty();
  gossip.status = joins && op.kind == repl::OperationKind::kNone ? repl::MemberStatus::kJoining
                                                                  : repl::StartupStatus(op);
  // The last kvctl set-weight outlives --weight; one under way resumes.
  double weight = 0;
  if (op.kind == repl::OperationKind::kSetWeight && repl::ParseWeight(op.target, &weight)) {
    if (op.state == repl::OperationState::kDone) gossip.self.weight = weight;
    if (repl::Running(op)) gossip.next_weight = weight;
  }
  gossip.seeds = options_.seeds;
  gossip.timeout_ms = static_cast<uint64_t>(options_.request_timeout_ms);
  gossip.members_path = base::JoinPath(options_.data_dir, repl::kMembersFileName);
  gossip.seed = env_.clock->WallMicros() ^ std::hash<std::string>()(options_.id);
  repl::Transport* transport = loops_.front().transport.get();
  gossip_ = std::make_unique<repl::Gossiper>(gossip, view_.get(), liveness_.get(), transport, disk_->env(),
                                             env_.clock, logger_);
  gossip_->Load().IgnoreError();  // a bad members file is logged; the seeds fill the table
  prober_ = std::make_unique<repl::Prober>(options_.id, liveness_.get(), transport, DetectorOptionsOf(options_));
  repl::HandoffOptions handoff;
  handoff.rate_bytes_per_sec = options_.handoff_rate_bytes;
  handoff.timeout_ms = 2 * static_cast<uint64_t>(options_.request_timeout_ms);
  handoff.tick_us = kHandoffTickMicros;
  handoff_ = std::make_unique<repl::HintedHandoff>(handoff, hints_.get(), store_.get(), liveness_.get(), view_.get(),
                                                   transport, loops_.front().executor.get(), io_.get(), env_.clock,
                                                   logger_);
  StartAntiEntropy(transport);
  StartMembershipOps(transport, std::move(op));
  GossipRound();
  loop->RunEvery(static_cast<uint64_t>(options_.gossip_interval_ms) * 1000, [this] { GossipRound(); });
  loop->RunEvery(static_cast<uint64_t>(options_.probe_interval_ms) * 1000, [this] { prober_->Tick(); });
  handoff_->MeasureLoopWith([loop] { return loop->idle_micros(); });
  const repl::AnsweredCounter answered = [this] {
    repl::CoordinatorStats all;
    for (const PerLoop& l : loops_) all += l.coordinator->stats();
    return std::pair<uint64_t, uint64_t>(all.answered, all.answered_micros);
  };
  handoff_->MeasureClientsWith(answered);
  if (!options_.no_hinted_handoff) loop->RunEvery(kHandoffTickMicros, [this] { handoff_->Tick(); });
  if (!options_.no_background_pacing) {
    pacer_.MeasureClientsWith(answered);
    loop->RunEvery(kHandoffTickMicros, [this] { pacer_.Tick(env_.clock->NowMicros()); });
  }
  loop->RunEvery(kDiskCheckMicros, [this] { CheckDisk(); });
  loop->RunEvery(kHintExpiryMicros, [this] {
    io_->Submit([this] {
      Status s = hints_->Expire();
      if (!s.ok()) LOG_WARN(logger_, "expiring old hints: %s", s.ToString().c_str());
    });
  });
}

void Node::StartAntiEntropy(repl::Transport* transport) {
  repl::AntiEntropyOptions aae;
  aae.self = options_.id;
  aae.interval_us = static_cast<uint64_t>(options_.aae_interval_s) * 1'000'000;
  aae.rate_bytes_per_sec = options_.aae_rate_bytes;
  aae.state_path = base::JoinPath(options_.data_dir, repl::kRepairFileName);
  aae.exchange.peer_sets =
      repl::PeerSetLimitsFor(options_.max_value_bytes, static_cast<size_t>(options_.max_siblings));
  aae.exchange.timeout_ms = std::max<uint64_t>(10000, 2 * static_cast<uint64_t>(options_.request_timeout_ms));
  anti_entropy_ = std::make_unique<repl::AntiEntropy>(
      aae, leaves_.get(), store_.get(), options_.no_hinted_handoff ? nullptr : hints_.get(), liveness_.get(),
      view_.get(), transport, loops_.front().executor.get(), io_executor_.get(), disk_->env(), env_.clock, logger_);
  anti_entropy_->FeedPurgeHorizon(
      horizon_.get(),
      [this] {
        const lsm::Snapshot* snapshot = db_->GetSnapshot();
        const uint64_t seq = snapshot->sequence();
        db_->ReleaseSnapshot(snapshot);
        return seq;
      },
      [this] {
        for (const repl::MemberView& v : gossip_->Snapshot()) {
          for (const auto& [owner, count] : v.state.hints) {
            if (count > 0) return true;
          }
        }
        return false;
      });
  anti_entropy_->Load();
  server_->loop(0)->RunEvery(kAntiEntropyTickMicros, [this] { anti_entropy_->Tick(); });
}

void Node::CheckDisk() {
  if (disk_->read_only()) io_->Submit([this] { disk_->Check(); });
}

void Node::UpdateMerkleSplits() {
  auto ring = view_->Current();
  if (ring->version() == merkle_ring_version_) return;
  merkle_ring_version_ = ring->version();
  // Every ring range a union of whole leaves: no leaf straddles two ranges.
  Status s = db_->SetMerkleSplits(repl::MerkleSplits(*ring));
  if (!s.ok()) LOG_WARN(logger_, "merkle split points: %s", s.ToString().c_str());
}

void Node::GossipRound() {
  UpdateMerkleSplits();
  // The load is the data held (keys + values, uncompressed): what streaming a
  // range moves, so `kvctl plan` prices moves in the bytes they will take.
  lsm::Stats st = db_->GetStats();
  const uint64_t keys = st.entries > st.tombstones ? st.entries - st.tombstones : 0;
  std::vector<std::pair<std::string, uint64_t>> hints;
  for (const auto& owner : hints_->Owners()) hints.emplace_back(owner, hints_->Stats(owner).pending);
  gossip_->UpdateSelf(st.data_bytes, keys, liveness_->Suspected(), std::move(hints));
  gossip_->Tick();
}

Status Node::Stop() {
  if (!running_) return Status::OK();
  running_ = false;
  LOG_INFO(logger_, "kvnode %s stopping: draining in-flight requests", options_.id.c_str());
  server_->Shutdown(/*drain_timeout_ms=*/5000);
  handoff_.reset();
  anti_entropy_.reset();
  membership_.reset();
  streamer_.reset();
  cleaner_.reset();
  io_.reset();  // runs what is queued; callbacks queue onto the stopped loop (never run)
  Status s = db_->Flush();
  if (s.ok()) s = db_->SyncWal();
  if (!s.ok()) LOG_ERROR(logger_, "final flush failed: %s (the WAL still holds every write)", s.ToString().c_str());
  Status h = hints_->Flush();
  if (!h.ok()) LOG_ERROR(logger_, "final flush of the hints failed: %s", h.ToString().c_str());
  if (s.ok()) s = h;
  hints_.reset();
  aae_.reset();
  stream_source_.reset();
  leaves_.reset();
  io_executor_.reset();
  db_.reset();
  horizon_.reset();  // the engine's compaction filter used it
  // Only a stop that made every write durable may keep the actor epoch.
  if (s.ok()) s = state_->MarkClean();
  prober_.reset();
  gossip_.reset();
  for (PerLoop& pl : loops_) {
    pl.coordinator.reset();
    pl.transport.reset();
    pl.rpc.reset();
  }
  server_.reset();
  LOG_INFO(logger_, "kvnode %s stopped", options_.id.c_str());
  return s;
}

}  // namespace kvring::node
