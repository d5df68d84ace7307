// A fuzz-style test against a live kvnode: random bytes and mutated valid frames
// (byte flips, truncations, rewritten length fields, inserted garbage) over many
// connections, some at once. Each connection half-closes after its bytes; the node
// must then answer only with well-formed reply frames and close the connection,
// must never die, and must serve a well-formed client afterwards.
// Seeded: the seed is printed; KV_SEED=N replays a run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "repl/messages.h"
#include "test/cluster/cluster_test_util.h"
#include "test/cluster/raw_connection.h"

namespace kvring::test {
namespace {

constexpr int kConnections = 1600;
constexpr int kConcurrent = 16;         // connections open and written at once
constexpr uint64_t kCloseTimeoutMs = 15'000;

// A well-formed request of a random kind.
std::string ValidRequest(base::Random& rnd, uint32_t request_id) {
  const std::string key = "fz-" + std::to_string(rnd.Uniform(50));
  std::string body;
  uint8_t opcode;
  switch (rnd.Uniform(8)) {
    case 0:
      opcode = static_cast<uint8_t>(net::Opcode::kPing);
      break;
    case 1:
      net::EncodeGet(&body, net::GetRequest{.consistency = static_cast<uint8_t>(rnd.Uniform(3)),
                                            .flags = static_cast<uint8_t>(rnd.Uniform(2)), .key = key});
      opcode = static_cast<uint8_t>(net::Opcode::kGet);
      break;
    case 2:
    case 3: {
      const std::string value = rnd.RandomString(rnd.Uniform(300));
      net::EncodePut(&body, net::PutRequest{.key = key, .value = value});
      opcode = static_cast<uint8_t>(net::Opcode::kPut);
      break;
    }
    case 4:
      net::EncodeDelete(&body, net::DeleteRequest{.key = key});
      opcode = static_cast<uint8_t>(net::Opcode::kDelete);
      break;
    case 5:
      opcode = static_cast<uint8_t>(net::Opcode::kStats);
      break;
    case 6:
      opcode = repl::Op(rnd.OneIn(2) ? repl::ClusterOpcode::kRing : repl::ClusterOpcode::kClusterStatus);
      break;
    default:
      opcode = static_cast<uint8_t>(rnd.Uniform(256));  // anything, mostly unknown
      body = rnd.RandomString(rnd.Uniform(40));
      break;
  }
  return RequestFrame(opcode, request_id, body);
}

// One damage to a byte string.
void Mutate(base::Random& rnd, std::string* bytes) {
  if (bytes->empty()) return;
  const size_t pos = rnd.Uniform(bytes->size());
  switch (rnd.Uniform(6)) {
    case 0:  // flip a few bits
      for (int i = 0, n = static_cast<int>(rnd.Range(1, 4)); i < n; ++i) {
        (*bytes)[rnd.Uniform(bytes->size())] ^= static_cast<char>(1u << rnd.Uniform(8));
      }
      break;
    case 1:  // a random byte
      (*bytes)[pos] = static_cast<char>(rnd.Uniform(256));
      break;
    case 2:  // truncate
      bytes->resize(pos);
      break;
    case 3: {  // rewrite a length field (assume a frame starts here)
      uint32_t lengths[] = {0, 1, 5, 6, 9, static_cast<uint32_t>(rnd.Uniform(1000)), 0x00ffffff, 0xffffffff,
                            static_cast<uint32_t>(rnd.Next32())};
      uint32_t v = lengths[rnd.Uniform(std::size(lengths))];
      if (pos + 4 <= bytes->size()) base::EncodeFixed32(bytes->data() + pos, v);
      break;
    }
    case 4: {  // insert garbage
      std::string junk(rnd.Range(1, 16), '\0');
      for (auto& c : junk) c = static_cast<char>(rnd.Uniform(256));
      bytes->insert(pos, junk);
      break;
    }
    default:  // duplicate a slice
      bytes->insert(pos, bytes->substr(rnd.Uniform(bytes->size()), rnd.Range(1, 32)));
      break;
  }
}

struct FuzzCase {
  std::string kind;
  std::string bytes;
};

FuzzCase MakeCase(base::Random& rnd) {
  FuzzCase c;
  switch (rnd.Uniform(4)) {
    case 0: {
      c.kind = "random bytes";
      c.bytes.resize(rnd.Range(1, 3000));
      for (auto& b : c.bytes) b = static_cast<char>(rnd.Uniform(256));
      break;
    }
    case 1: {
      c.kind = "mutated HELLO, then valid frames";
      c.bytes = HelloFrame("fuzz");
      Mutate(rnd, &c.bytes);
      for (int i = 0, n = static_cast<int>(rnd.Range(1, 8)); i < n; ++i) c.bytes += ValidRequest(rnd, i + 1);
      break;
    }
    default: {
      c.kind = "HELLO, then mutated frames";
      c.bytes = HelloFrame("fuzz");
      std::string frames;
      for (int i = 0, n = static_cast<int>(rnd.Range(1, 12)); i < n; ++i) frames += ValidRequest(rnd, i + 1);
      for (int i = 0, n = static_cast<int>(rnd.Range(1, 3)); i < n; ++i) Mutate(rnd, &frames);
      c.bytes += frames;
      break;
    }
  }
  return c;
}

TEST(NodeFuzzTest, RandomAndMutatedFramesNeverKillTheNodeAndEveryConnectionIsAnsweredOrClosed) {
  const uint64_t seed = TestSeed("NodeFuzzTest");
  base::Random rnd(seed);
  SingleNode node;
  KV_ASSERT_OK(node.Start());
  const std::string address = node.node().address();
  KvClient well_formed(address);
  KV_ASSERT_OK(well_formed.Put("canary", "alive"));

  size_t replies = 0;  // so the test cannot pass by never getting past HELLO
  for (int first = 0; first < kConnections; first += kConcurrent) {
    std::vector<FuzzCase> cases;
    std::vector<RawConnection> conns(kConcurrent);
    for (int i = 0; i < kConcurrent; ++i) {
      cases.push_back(MakeCase(rnd));
      ASSERT_TRUE(conns[i].Connect(address, 5000)) << "connection " << first + i << ", seed " << seed;
    }
    // Interleave the writes in random-sized chunks across the open connections.
    std::vector<size_t> sent(kConcurrent, 0);
    for (bool more = true; more;) {
      more = false;
      for (int i = 0; i < kConcurrent; ++i) {
        const std::string& b = cases[i].bytes;
        if (sent[i] >= b.size()) continue;
        size_t n = std::min<size_t>(b.size() - sent[i], rnd.Range(1, 700));
        if (!conns[i].Write(std::string_view(b).substr(sent[i], n))) {
          sent[i] = b.size();  // the node closed it already: allowed
          continue;
        }
        sent[i] += n;
        more |= sent[i] < b.size();
      }
    }
    for (auto& c : conns) c.ShutdownWrite();
    for (int i = 0; i < kConcurrent; ++i) {
      SCOPED_TRACE("connection " + std::to_string(first + i) + " (" + cases[i].kind + "), seed " +
                   std::to_string(seed));
      ASSERT_TRUE(conns[i].ReadUntilClosed(kCloseTimeoutMs)) << "the node neither closed nor finished the connection";
      // A reset may cut the last reply short; every complete frame must be a reply.
      EXPECT_EQ("", conns[i].CheckReplies(/*allow_partial=*/true));
      replies += conns[i].CompleteFrames();
    }
    ASSERT_TRUE(node.node().running()) << "the node died; seed " << seed;
  }
  EXPECT_GT(replies, static_cast<size_t>(kConnections)) << "the fuzz hardly got any request through";
  // A well-formed client is still served, on an old and on a new connection.
  auto get = well_formed.Get("canary");
  KV_ASSERT_OK(get);
  EXPECT_EQ(std::vector<std::string>{"alive"}, get->values());
  KvClient fresh(address);
  KV_ASSERT_OK(fresh.Put("after-fuzz", "ok"));
  auto after = fresh.Get("after-fuzz");
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"ok"}, after->values());
  EXPECT_TRUE(node.node().running());
}

}  // namespace
}  // namespace kvring::test
