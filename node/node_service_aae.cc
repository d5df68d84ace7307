// node/node_service_aae.cc — NodeService's anti-entropy messages: AAE_* from
// peers (answered by repl/aae_responder.h on the loop they arrive on), kvctl
// repair's REPAIR_START and REPAIR_STATUS (on loop 0, where the schedule runs),
// and the anti-entropy counters of STATS.
#include "node/node_service.h"
#include "repl/aae_messages.h"

namespace kvring::node {

using base::Status;

void NodeService::HandleAae(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  p_.aae->Handle(Here().executor, request.opcode(), std::string(request.body()), PacedReply(request.Defer()));
}

void NodeService::HandleRepairStart(net::Request& request) {
  repl::RepairRequest repair;
  Status s = repl::DecodeRepairRequest(request.body(), &repair);
  if (!s.ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(s);
  }
  OnLoopZero(request, [this, repair](net::Responder responder) {
    base::Result<repl::RepairProgress> progress = p_.anti_entropy->StartRepair(repair);
    if (!progress.ok()) return responder.Reply(progress.status());
    std::string payload;
    repl::EncodeRepairProgress(&payload, progress.value());
    responder.ReplyOk(payload);
  });
}

void NodeService::HandleRepairStatus(net::Request& request) {
  OnLoopZero(request, [this](net::Responder responder) {
    std::string payload;
    repl::EncodeRepairProgress(&payload, p_.anti_entropy->Progress());
    responder.ReplyOk(payload);
  });
}

std::string NodeService::AaeText() {
  const repl::AntiEntropyStats& st = p_.anti_entropy->stats();
  const repl::ExchangeStats& t = st.total;
  std::string text;
  Line(&text, "aae_exchanges", st.exchanges);
  Line(&text, "aae_exchange_failures", st.exchange_failures);
  Line(&text, "aae_skipped", st.skipped);
  Line(&text, "aae_ranges_compared", t.ranges_compared);
  Line(&text, "aae_ranges_differing", t.ranges_differing);
  Line(&text, "aae_leaves_differing", t.leaves_differing);
  Line(&text, "aae_keys_differing", t.keys_differing);
  Line(&text, "aae_keys_sent", t.keys_sent);
  Line(&text, "aae_keys_received", t.keys_received);
  Line(&text, "aae_bytes_sent", t.bytes_sent);
  Line(&text, "aae_bytes_received", t.bytes_received);
  Line(&text, "aae_tree_bytes", t.tree_bytes);
  Line(&text, "aae_digest_bytes", t.digest_bytes);
  Line(&text, "aae_sync_bytes", t.sync_bytes);
  Line(&text, "aae_leaf_requests", t.leaf_requests);
  Line(&text, "aae_digest_requests", t.digest_requests);
  Line(&text, "aae_sync_requests", t.sync_requests);
  Line(&text, "aae_last_converge_ms", st.last_converge_us / 1000);
  Line(&text, "aae_running", p_.anti_entropy->running() ? 1 : 0);
  const repl::AaeResponderStats served = p_.aae->stats();
  Line(&text, "aae_served_requests", served.requests);
  Line(&text, "aae_served_keys_received", served.keys_received);
  Line(&text, "aae_served_keys_answered", served.keys_answered);
  if (p_.pacer != nullptr) {
    Line(&text, "peer_answer_delay_us", p_.pacer->delay_us());
    Line(&text, "peer_answer_client_base_us", p_.pacer->client_base_us());
  }
  for (const auto& [peer, last] : p_.anti_entropy->last_exchanges()) {
    Line(&text, "aae_last_exchange_wall_us{" + peer + "}", last.finished_wall_us);
    Line(&text, "aae_last_exchange_ms{" + peer + "}", last.duration_us / 1000);
    Line(&text, "aae_last_exchange_keys_repaired{" + peer + "}", last.stats.keys_sent + last.stats.keys_received);
  }
  const repl::RepairProgress job = p_.anti_entropy->Progress();
  Line(&text, "repair_job", job.job);
  Line(&text, "repair_ranges_done", job.ranges_done);
  Line(&text, "repair_ranges_total", job.ranges_total);
  Line(&text, "repair_state", static_cast<uint64_t>(job.state));  // 0 none, 1 running, 2 done, 3 failed
  Line(&text, "aae_last_full_wall_us", job.last_full_wall_us);
  // The engine's side of a comparison: with clean leaves none of these move.
  const lsm::Stats engine = p_.db->GetStats();
  Line(&text, "engine_data_blocks_read", engine.data_blocks_read);
  Line(&text, "engine_merkle_leaves_recomputed", engine.merkle_leaves_recomputed);
  Line(&text, "engine_merkle_dirty_leaves", engine.merkle_dirty_leaves);
  Line(&text, "engine_compactions", engine.compactions);
  Line(&text, "aae_tombstones_purged", p_.horizon->purged());
  Line(&text, "engine_tombstones", engine.tombstones);
  Line(&text, "engine_tombstone_compactions", engine.tombstone_compactions);
  Line(&text, "engine_tombstone_requests", engine.tombstone_requests);
  uint64_t table_bytes = 0;
  for (const lsm::LevelStats& level : engine.levels) table_bytes += level.bytes;
  Line(&text, "engine_table_bytes", table_bytes);
  return text;
}

}  // namespace kvring::node
