// test/fuzz/corpus_gen/main.cc — writes the fuzz targets' seed corpus
// (test/fuzz/corpus/<target>/, make fuzz-corpus): real encodings made by the
// encoders, plus every hex example of the docs (docs/protocol.md and
// docs/formats/*.md) handed to the target that decodes it. Deterministic: the
// same tree writes the same files, named by what they hold.
//   build/fuzz_corpus_gen OUT_DIR DOCS_DIR
// Thread safety: a single-threaded tool.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "lsm/block_builder.h"
#include "lsm/bloom.h"
#include "lsm/dbformat.h"
#include "lsm/merkle_index.h"
#include "lsm/table_builder.h"
#include "lsm/version_edit.h"
#include "lsm/wal_writer.h"
#include "lsm/write_batch.h"
#include "net/protocol.h"
#include "repl/aae_messages.h"
#include "repl/client_context.h"
#include "repl/gossip.h"
#include "repl/hint_record.h"
#include "repl/messages.h"
#include "repl/node_state.h"
#include "repl/membership_ops.h"
#include "repl/repair_state.h"
#include "repl/stream_messages.h"
#include "repl/value_format.h"

namespace kvring::fuzz {
namespace {

using repl::SiblingSet;
using repl::VersionVector;

constexpr uint64_t kTime = 1'700'000'000'000'000;

class Corpus {
 public:
  explicit Corpus(std::string dir) : dir_(std::move(dir)) {}
  // Writes one seed of `target`, prefixed by `selector` when it is >= 0.
  void Add(const std::string& target, const std::string& name, std::string_view bytes, int selector = -1) {
    std::string path = dir_ + "/" + target;
    std::filesystem::create_directories(path);
    std::ofstream out(path + "/" + name, std::ios::binary);
    if (selector >= 0) out.put(static_cast<char>(selector));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) std::abort();
  }

 private:
  const std::string dir_;
};

// --- What the encoders write --------------------------------------------------

SiblingSet Set(int writes) {
  SiblingSet set;
  for (int i = 0; i < writes; ++i) {
    VersionVector context = i % 2 == 0 ? set.history() : VersionVector();
    std::string actor = i % 3 == 0 ? "n1" : "n2#2";
    auto out = i == 3 ? set.Delete(actor, context, kTime + i, {}) : set.Put(actor, context, "v" + std::to_string(i), kTime + i, {});
    if (!out.ok()) std::abort();
  }
  return set;
}

ring::NodeInfo Node(int i) { return {"n" + std::to_string(i), "10.0.0." + std::to_string(i) + ":7000", "dc1", "rack1", 1.5}; }

repl::MemberState State(int i) {
  repl::MemberState s;
  s.node = Node(i);
  s.generation = 3;
  s.version = 17 + i;
  s.load_bytes = 4096;
  s.suspects = {"n9"};
  s.hints = {{"n9", 12}};
  return s;
}

void Client(Corpus* c) {
  std::string b;
  for (uint16_t v : {uint16_t{1}, uint16_t{2}, uint16_t{3}}) {
    b.clear();
    net::EncodeHello(&b, {v, net::PeerRole::kNode, "kvring", "n1", v >= 3 ? "nonce" : ""});
    c->Add("client_messages", "hello-v" + std::to_string(v), b, 0);
    b.clear();
    net::EncodeHelloReply(&b, {v, "kvring", "n2", v >= 3 ? "challenge" : ""});
    c->Add("client_messages", "hello-reply-v" + std::to_string(v), b, 1);
  }
  b.clear(); net::EncodeAuth(&b, "proof"); c->Add("client_messages", "auth", b, 2);
  b.clear(); net::EncodeGet(&b, {254, net::kGetFlagStrict, "apple"}); c->Add("client_messages", "get", b, 3);
  net::GetReply reply;
  reply.siblings = {{"red", "clock", kTime}, {"blue", "", 1}};
  reply.context = "ctx";
  b.clear(); net::EncodeGetReply(&b, reply); c->Add("client_messages", "get-reply", b, 4);
  b.clear(); net::EncodePut(&b, {255, net::kWriteFlagOverwrite, "apple", "red", "ctx"}); c->Add("client_messages", "put", b, 5);
  b.clear(); net::EncodeDelete(&b, {1, 0, "apple", "ctx"}); c->Add("client_messages", "delete", b, 6);
  b.clear(); net::EncodeNotFoundPayload(&b, "ctx"); c->Add("client_messages", "not-found", b, 7);
  net::WriteReceipt receipt;
  receipt.acks = {{"n1", false, ""}, {"n3", true, "n2"}};
  receipt.context = "ctx";
  receipt.clock = "clock";
  b.clear(); net::EncodeWriteReceipt(&b, receipt, 1); c->Add("client_messages", "receipt-v1", b, 8);
  b.clear(); net::EncodeWriteReceipt(&b, receipt); c->Add("client_messages", "receipt-v3", b, 9);
  b.clear(); net::AppendStatus(&b, base::Status::NotFound("key not found")); b += "payload";
  c->Add("client_messages", "reply-status", b, 10);
  std::string stream;
  net::AppendFrame(&stream, 0x10, 0, 7, "\xfe\x00\x05" "apple");
  net::AppendFrame(&stream, 0x10, net::kFlagReply, 7, b);
  c->Add("frame", "two-frames", stream);
}

void Cluster(Corpus* c) {
  std::string b;
  SiblingSet set = Set(4);
  repl::EncodeMember(&b, Node(1)); c->Add("cluster_messages", "member", b, 0);
  b.clear(); repl::EncodeReplicaReadReply(&b, &set); c->Add("cluster_messages", "read-reply", b, 1);
  b.clear(); repl::EncodeReplicaReadReply(&b, nullptr); c->Add("cluster_messages", "read-reply-none", b, 1);
  b.clear(); repl::EncodeReplicaWrite(&b, "apple", set); c->Add("cluster_messages", "replica-write", b, 2);
  std::string hinted;
  repl::EncodeHintedWrite(&hinted, "n2", b); c->Add("cluster_messages", "hinted-write", hinted, 3);
  b.clear(); repl::EncodeForwardWrite(&b, {repl::WriteKind::kDelete, 254, 2, "apple", "", "ctx"});
  c->Add("cluster_messages", "forward-write", b, 4);
  b.clear(); repl::EncodeSiblingClock(&b, set.siblings().back()); c->Add("cluster_messages", "clock", b, 5);
  repl::RingDescription ring{7, "dc1:2,dc2:1", {{Node(1), 64, 0.5, 0.25}, {Node(2), 32, 0.5, 0.75}}, 99};
  b.clear(); repl::EncodeRingDescription(&b, ring); c->Add("cluster_messages", "ring", b, 6);
  repl::MemberReport report;
  report.state = State(1);
  report.suspected_by = {"n2"};
  report.hints_for_it = 3;
  report.detail = "no heartbeat for 5s";
  b.clear(); repl::EncodeClusterStatus(&b, {report, report}); c->Add("cluster_messages", "cluster-status", b, 7);
  c->Add("sibling_set", "four-writes", repl::EncodeSiblingSet(set));
  c->Add("sibling_set", "merged", repl::EncodeSiblingSet(SiblingSet::Merge(Set(2), Set(5))));
}

// The anti-entropy messages (selector = codec + 16 x the request's entry count)
// and a repair job's saved state.
void AntiEntropy(Corpus* c) {
  const repl::PrefixInterval range{0x1000, 0x2000};
  std::string b;
  repl::EncodeRangeHashes(&b, {{range, 0xabcdef, 12}, {{0x2000, 0}, 0x42, 3}});
  c->Add("aae_messages", "range-hashes", b, 0);
  b.clear(); repl::EncodeDifferingRanges(&b, {1}); c->Add("aae_messages", "differing", b, 1 + 16 * 2);
  b.clear(); repl::EncodeInterval(&b, range); c->Add("aae_messages", "interval", b, 2);
  b.clear(); repl::EncodeLeafHashes(&b, {{0x1000, 0x1800, 7, 2}, {0x1800, 0x2000, 0, 0}});
  c->Add("aae_messages", "leaf-hashes", b, 3);
  b.clear(); repl::EncodeKeyDigests(&b, {{"apple", 11}, {"pear", 12}}); c->Add("aae_messages", "key-digests", b, 4);
  b.clear(); repl::EncodeSync(&b, {{"apple", Set(3)}, {"pear", std::nullopt}}); c->Add("aae_messages", "sync", b, 5);
  b.clear(); repl::EncodeSyncReply(&b, {Set(2), std::nullopt}); c->Add("aae_messages", "sync-reply", b, 6 + 16 * 2);
  b.clear(); repl::EncodeRepairRequest(&b, {"n2", range}); c->Add("aae_messages", "repair-start", b, 7);
  repl::RepairProgress p{.state = repl::RepairState::kRunning, .job = 3, .ranges_total = 768, .ranges_done = 100,
                         .keys_received = 5, .detail = "comparing with n2"};
  b.clear(); repl::EncodeRepairProgress(&b, p); c->Add("aae_messages", "repair-progress", b, 8);
  repl::RepairJobState state;
  state.progress = p;
  state.progress.detail.clear();
  state.request = {"", range};
  state.done = {{"n2", 0x1fff}, {"n3", 0x1fff}};
  c->Add("repair_state", "job", repl::EncodeRepairJobState(state));
}

void Versions(Corpus* c) {
  VersionVector v;
  v.Witness("n1", 3, 1'700'000'000);
  v.Witness("n2#2", 5, 0);
  std::string b;
  v.EncodeTo(&b);
  c->Add("client_context", "vector", b, 0);
  c->Add("client_context", "context", repl::EncodeClientContext(repl::ContextKey::Default(), "k", v), 1);
  c->Add("client_context", "empty-context", repl::EncodeClientContext(repl::ContextKey::Default(), "k", {}), 1);
}

void Membership(Corpus* c) {
  std::string b;
  repl::EncodeGossipSyn(&b, "kvring", "n1", {{"n1", 3, 17}, {"n2", 1, 4}}); c->Add("gossip", "syn", b, 0);
  b.clear(); repl::EncodeGossipAck(&b, {State(2)}, {"n1"}); c->Add("gossip", "ack", b, 1);
  b.clear(); repl::EncodeGossipPush(&b, "kvring", "n1", {State(1), State(3)}); c->Add("gossip", "push", b, 2);
  b.clear(); repl::EncodeMemberState(&b, State(1)); c->Add("gossip", "state", b, 3);
  b.clear(); repl::EncodeMembersFile({State(1), State(2)}, &b); c->Add("members_file", "two", b);
  c->Add("members_file", "text", "n1 10.0.0.1:7000 dc1 rack1 1\nn2 10.0.0.2:7000 dc1 rack2 1.5\n");
  b.clear(); repl::EncodeNodeState({"n1", 7, 3, true}, &b); c->Add("node_state", "clean", b);
  b.clear(); repl::EncodeHintRecord({kTime, kTime + 5, 300, 2}, &b); c->Add("hint_record", "record", b, 0);
  c->Add("hint_record", "key", repl::HintKey("n2", "apple"), 1);
  // Streaming and membership operations (docs/protocol.md 9.3, formats/membership_op.md).
  b.clear(); repl::EncodeStreamRead(&b, {{0x10, 0x20}, "apple", 1u << 20}); c->Add("stream_messages", "read", b, 0);
  b.clear(); repl::EncodeStreamBatch(&b, {{{"apple", "set-bytes"}}, true}); c->Add("stream_messages", "batch", b, 1);
  b.clear(); repl::EncodeMembershipChange(&b, repl::OperationKind::kRemoveNode, "n3");
  c->Add("stream_messages", "change", b, 2);
  const repl::StreamProgress stream{{0x10, 0x20}, "n2", "n4", 3, 120, 0, true};
  b.clear();
  repl::EncodeMembershipProgress(&b, {repl::OperationKind::kJoin, "", repl::OperationState::kStreaming, "", 1000,
                                      2000, {stream}});
  c->Add("stream_messages", "progress", b, 3);
  b.clear();
  repl::EncodeMembershipOpFile({repl::OperationKind::kJoin, "", repl::OperationState::kStreaming, 1000,
                                {{stream, {"n2", "n3"}, "pear"}}}, &b);
  c->Add("stream_messages", "op-file", b, 4);
  c->Add("stream_messages", "op-body", std::string_view(b).substr(5, b.size() - 9), 5);  // sealed by the target
  b.clear(); repl::EncodeStreamRead(&b, {{0x10, 0x20}, "", 1u << 20}); c->Add("stream_messages", "read-first", b, 0);
  b.clear(); repl::EncodeStreamBatch(&b, {}); c->Add("stream_messages", "batch-last", b, 1);
}

// --- lsm files ---------------------------------------------------------------

class StringFile final : public base::WritableFile {
 public:
  base::Status Append(std::string_view data) override { contents.append(data); return base::Status::OK(); }
  base::Status Flush() override { return base::Status::OK(); }
  base::Status Sync() override { return base::Status::OK(); }
  base::Status Close() override { return base::Status::OK(); }
  std::string contents;
};

std::string Batch(int i) {
  lsm::WriteBatch batch;
  batch.Put("key" + std::to_string(i), std::string(static_cast<size_t>(i) * 7, 'v'));
  if (i % 2 == 1) batch.Delete("key" + std::to_string(i - 1));
  batch.set_sequence(100 + static_cast<uint64_t>(i));
  return batch.rep();
}

std::string LogOf(const std::vector<std::string>& records) {
  StringFile file;
  lsm::WalWriter writer(&file);
  for (const auto& r : records) {
    if (!writer.AddRecord(r).ok()) std::abort();
  }
  return file.contents;
}

std::string Joined(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) out += (out.empty() ? "" : "\xff") + r;
  return out;
}

std::string Key(int i, lsm::ValueKind kind = lsm::ValueKind::kValue) {
  char user[16];
  std::snprintf(user, sizeof(user), "key%04d", i);
  return lsm::MakeInternalKey(user, 1000 - static_cast<uint64_t>(i), kind);
}

void Lsm(Corpus* c) {
  std::vector<std::string> batches;
  for (int i = 0; i < 4; ++i) batches.push_back(Batch(i));
  c->Add("wal", "log", LogOf(batches), 0);
  c->Add("wal", "records", Joined(batches), 1);
  for (auto compression : {lsm::Compression::kNone, lsm::Compression::kLz4}) {
    lsm::TableOptions options;
    options.block_bytes = 256;
    options.compression = compression;
    StringFile file;
    lsm::TableBuilder builder(options, &file);
    for (int i = 0; i < 60; ++i) builder.Add(Key(i, i % 7 == 0 ? lsm::ValueKind::kDeletion : lsm::ValueKind::kValue), std::string(20, 'a' + i % 26));
    if (!builder.Finish().ok()) std::abort();
    c->Add("table", compression == lsm::Compression::kNone ? "plain" : "lz4", file.contents);
  }
  lsm::BlockBuilder block(4);
  for (int i = 0; i < 10; ++i) block.Add(Key(i), "value" + std::to_string(i));
  c->Add("block", "ten", block.Finish(), 0);
  lsm::BloomFilterBuilder bloom(10);
  for (int i = 0; i < 50; ++i) bloom.AddKey("key" + std::to_string(i));
  c->Add("bloom", "fifty", bloom.Finish(), 10);
  lsm::VersionEdit edit;
  edit.SetLogNumber(5);
  edit.SetNextFileNumber(8);
  edit.SetLastSequence(100);
  edit.AddFile(0, {7, 1000, Key(1), Key(9)});
  edit.AddFile(1, {6, 2000, Key(10), Key(20), 12, 3});  // with its tombstones (field 64)
  edit.AddFile(2, {11, 3000, Key(31), Key(40), 2, 4, 0, 4, 9, 0, 30, 900});  // its sequences and data (65, 66)
  edit.AddRangeDeletion("key0005", "key0007", 90);              // field 7
  edit.RemoveFile(1, 4);
  edit.SetCompactPointer(1, Key(15));
  std::string e;
  edit.EncodeTo(&e);
  c->Add("version_edit", "edit", e);
  lsm::VersionEdit second;
  second.RemoveFile(0, 7);
  second.AddFile(1, {9, 1000, Key(21), Key(30)});
  second.SetLastSequence(200);
  second.AddRangeDeletion("key0006", "", 150);  // overlaps the first, no upper bound
  std::string e2;
  second.EncodeTo(&e2);
  c->Add("manifest", "log", LogOf({e, e2}), 0);
  c->Add("manifest", "records", Joined({e, e2}), 1);
  lsm::MerkleIndex merkle(4, {0x1234000000000000ull, 0xfedc000000000001ull});
  merkle.StoreIfUnchanged(1, merkle.leaf(1).epoch, 0x1122334455667788ull, 3, 90);
  merkle.StoreIfUnchanged(5, merkle.leaf(5).epoch, 0x0102030405060708ull, 7, 95);
  c->Add("merkle_file", "index", merkle.Encode({5, 100}), 4);
}

void Resp(Corpus* c) {
  c->Add("resp", "replies", "+OK\r\n-ERR unknown command\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n");
}

// --- The docs' hex examples ----------------------------------------------------

bool IsHex(const std::string& t) {
  if (t.empty() || t.size() % 2 != 0) return false;
  for (char ch : t) {
    if (!std::isxdigit(static_cast<unsigned char>(ch)) || std::isupper(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

// The bytes of each fenced block: per line, its leading run of hex tokens.
std::vector<std::string> HexBlocks(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> blocks;
  std::string line, bytes;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (inside && !bytes.empty()) blocks.push_back(bytes);
      inside = !inside;
      bytes.clear();
      continue;
    }
    if (!inside) continue;
    std::istringstream tokens(line);
    for (std::string t; tokens >> t && IsHex(t);) {
      for (size_t i = 0; i < t.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(t.substr(i, 2), nullptr, 16)));
    }
  }
  return blocks;
}

void Docs(Corpus* c, const std::string& docs) {
  struct Doc { const char* file; const char* target; int selector; };
  const Doc kDocs[] = {
      {"protocol.md", "frame", -1},          {"formats/value.md", "sibling_set", -1},
      {"formats/node_state.md", "node_state", -1}, {"formats/hints.md", "hint_record", 0},
      {"formats/members.md", "members_file", -1},  {"formats/manifest.md", "version_edit", -1},
      {"formats/wal.md", "wal", 0},           {"formats/sstable.md", "table", -1},
      {"formats/membership_op.md", "stream_messages", 4},
  };
  for (const auto& d : kDocs) {
    int n = 0;
    for (const auto& bytes : HexBlocks(docs + "/" + d.file)) {
      c->Add(d.target, "doc-" + std::to_string(n++), bytes, d.selector);
    }
  }
}

}  // namespace
}  // namespace kvring::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR DOCS_DIR\n", argv[0]);
    return 2;
  }
  kvring::fuzz::Corpus corpus(argv[1]);
  kvring::fuzz::Client(&corpus);
  kvring::fuzz::Cluster(&corpus);
  kvring::fuzz::AntiEntropy(&corpus);
  kvring::fuzz::Versions(&corpus);
  kvring::fuzz::Membership(&corpus);
  kvring::fuzz::Lsm(&corpus);
  kvring::fuzz::Resp(&corpus);
  kvring::fuzz::Docs(&corpus, argv[2]);
  return 0;
}
