// Integration tests with one real kvnode process (--n 1): round trips of every
// client operation, pipelining on one connection, many concurrent connections.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "repl/client_context.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

class NodeBasicTest : public ::testing::Test {
 protected:
  void SetUp() override { KV_ASSERT_OK(node_.Start()); }
  KvClient& client() { return node_.client(); }

  SingleNode node_;
};

TEST_F(NodeBasicTest, PingAnswersAndHelloNamesTheNode) {
  KV_ASSERT_OK(client().Ping());
  auto c = client().Connected();
  KV_ASSERT_OK(c);
  EXPECT_EQ("n1", c.value()->server_node_id());
  EXPECT_EQ("kvring", c.value()->server_cluster());
}

TEST_F(NodeBasicTest, GetOfAMissingKeyIsNotFoundWithAnEmptyContext) {
  auto get = client().Get("never-written");
  ASSERT_FALSE(get.ok());
  EXPECT_TRUE(get.status().IsNotFound()) << get.status().ToString();
  auto read = client().Read("never-written");
  KV_ASSERT_OK(read);
  EXPECT_FALSE(read->found);
  auto history = repl::DecodeClientContext(repl::ContextKey::Default(), "never-written", read->context);
  KV_ASSERT_OK(history);
  EXPECT_TRUE(history->empty());  // a key never written has seen nothing
}

TEST_F(NodeBasicTest, PutThenGetReturnsTheValueWithAReceiptAndAClock) {
  auto put = client().Put("greeting", "hello");
  KV_ASSERT_OK(put);
  EXPECT_EQ(std::vector<std::string>{"n1"}, put->acks);
  EXPECT_EQ((repl::Dot{"n1", 1}), put->dot);
  auto get = client().Get("greeting");
  KV_ASSERT_OK(get);
  ASSERT_EQ(1u, get->siblings.size());
  EXPECT_EQ("hello", get->siblings[0].value);
  EXPECT_EQ("n1", get->siblings[0].dot.node);
  EXPECT_EQ(1u, get->siblings[0].dot.counter);
  EXPECT_GT(get->siblings[0].timestamp_us, 0u);
  EXPECT_FALSE(get->context.empty());
}

TEST_F(NodeBasicTest, APutWithoutAContextBecomesASiblingOfTheValue) {
  KV_ASSERT_OK(client().Put("k", "v1"));
  KV_ASSERT_OK(client().Put("k", "v2"));  // it saw nothing: it replaces nothing
  auto get = client().Get("k");
  KV_ASSERT_OK(get);
  EXPECT_EQ((std::vector<std::string>{"v1", "v2"}), get->values());
}

TEST_F(NodeBasicTest, APutWithTheContextOfThePreviousPutReplacesIt) {
  auto first = client().Put("k", "v1");
  KV_ASSERT_OK(first);
  KV_ASSERT_OK(client().Put("k", "v2", net::kConsistencyDefault, first->context));
  auto get = client().Get("k");
  KV_ASSERT_OK(get);
  EXPECT_EQ(std::vector<std::string>{"v2"}, get->values());
  EXPECT_EQ(2u, get->siblings[0].dot.counter);
  EXPECT_TRUE(get->siblings[0].context.Covers(repl::Dot{"n1", 1}));
}

TEST_F(NodeBasicTest, AnOverwritePutReplacesEverythingTheNodeHolds) {
  KV_ASSERT_OK(client().Put("k", "v1"));
  KV_ASSERT_OK(client().Put("k", "v2"));
  KV_ASSERT_OK(client().Put("k", "v3", net::kConsistencyDefault, "", net::kWriteFlagOverwrite));
  auto get = client().Get("k");
  KV_ASSERT_OK(get);
  EXPECT_EQ(std::vector<std::string>{"v3"}, get->values());
}

TEST_F(NodeBasicTest, DeleteThenGetIsNotFoundAndAPutWithThatContextRevivesTheKey) {
  auto put = client().Put("doomed", "x");
  KV_ASSERT_OK(put);
  auto del = client().Delete("doomed", net::kConsistencyDefault, put->context);
  KV_ASSERT_OK(del);
  EXPECT_EQ(std::vector<std::string>{"n1"}, del->acks);
  auto get = client().Get("doomed");
  ASSERT_FALSE(get.ok());
  EXPECT_TRUE(get.status().IsNotFound()) << get.status().ToString();
  auto gone = client().Read("doomed");
  KV_ASSERT_OK(gone);
  EXPECT_FALSE(gone->found);
  auto history = repl::DecodeClientContext(repl::ContextKey::Default(), "doomed", gone->context);
  KV_ASSERT_OK(history);
  EXPECT_TRUE(history->Covers(del->dot));  // the not-found context covers the delete
  KV_ASSERT_OK(client().Put("doomed", "back", net::kConsistencyDefault, gone->context));
  auto again = client().Get("doomed");
  KV_ASSERT_OK(again);
  EXPECT_EQ(std::vector<std::string>{"back"}, again->values());
}

TEST_F(NodeBasicTest, DeleteOfAMissingKeyWithItsContextSucceeds) {
  auto missing = client().Read("nothing-here");
  KV_ASSERT_OK(missing);
  KV_EXPECT_OK(client().Delete("nothing-here", net::kConsistencyDefault, missing->context));
  auto get = client().Get("nothing-here");
  EXPECT_TRUE(get.status().IsNotFound()) << get.status().ToString();
}

TEST_F(NodeBasicTest, ADeleteWithoutAContextIsRefusedAndDeletesNothing) {
  KV_ASSERT_OK(client().Put("kept", "v"));
  auto del = client().Delete("kept");
  ASSERT_FALSE(del.ok());
  EXPECT_TRUE(del.status().IsInvalidArgument()) << del.status().ToString();
  EXPECT_NE(del.status().message().find("context"), std::string::npos) << del.status().ToString();
  auto get = client().Get("kept");
  KV_ASSERT_OK(get);
  EXPECT_EQ(std::vector<std::string>{"v"}, get->values());
  KV_EXPECT_OK(client().DeleteSeen("kept"));
  EXPECT_TRUE(client().Get("kept").status().IsNotFound());
}

TEST_F(NodeBasicTest, ThePerDatacenterLevelsCountThisNodesDatacenter) {
  // One node in dc1 holding every key: LOCAL_ONE, LOCAL_QUORUM and EACH_QUORUM
  // each need its one reply (bytes 251, 252, 253).
  for (uint8_t level : {net::kConsistencyLocalOne, net::kConsistencyLocalQuorum, net::kConsistencyEachQuorum}) {
    const std::string key = "k" + std::to_string(level);
    KV_ASSERT_OK(client().Put(key, "v", level));
    auto get = client().Get(key, level);
    KV_ASSERT_OK(get);
    EXPECT_EQ(std::vector<std::string>{"v"}, get->values());
  }
}

TEST_F(NodeBasicTest, BinaryEmptyAndLargeValuesRoundTrip) {
  std::string binary("\0\x01\xff\n\r\0zero", 10);
  std::string large(200 * 1024, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 + 7);
  std::string binary_key("k\0\xfe", 3);
  KV_ASSERT_OK(client().Put(binary_key, binary));
  KV_ASSERT_OK(client().Put("empty", ""));
  KV_ASSERT_OK(client().Put("large", large));
  auto a = client().Get(binary_key);
  auto b = client().Get("empty");
  auto c = client().Get("large");
  KV_ASSERT_OK(a);
  KV_ASSERT_OK(b);
  KV_ASSERT_OK(c);
  EXPECT_EQ(std::vector<std::string>{binary}, a->values());
  EXPECT_EQ(std::vector<std::string>{""}, b->values());
  ASSERT_EQ(1u, c->siblings.size());
  EXPECT_TRUE(c->siblings[0].value == large) << "200 KiB value came back changed";
}

TEST_F(NodeBasicTest, StatsCountRequests) {
  for (int i = 0; i < 5; ++i) KV_ASSERT_OK(client().Put(Key("s", i), "v"));
  auto reply = client().Call(static_cast<uint8_t>(net::Opcode::kStats), "");
  KV_ASSERT_OK(reply);
  std::string_view payload = reply.value(), text;
  ASSERT_TRUE(base::GetLengthPrefixed(&payload, &text));
  std::string t(text);
  EXPECT_NE(std::string::npos, t.find("node n1\n")) << t;
  EXPECT_NE(std::string::npos, t.find("coordinator_puts 5\n")) << t;
  size_t pos = t.find("requests ");
  ASSERT_NE(std::string::npos, pos) << t;
  EXPECT_GE(std::stoul(t.substr(pos + 9)), 6u) << t;  // 5 puts and this STATS
}

TEST_F(NodeBasicTest, AThousandPipelinedRequestsOnOneConnectionAllGetTheirOwnReply) {
  auto conn = client().Connected();
  KV_ASSERT_OK(conn);
  net::BlockingClient* c = conn.value();
  constexpr int kRequests = 1000;
  // 1,000 puts in flight at once, then 1,000 gets of the same keys.
  std::map<uint32_t, int> puts;
  for (int i = 0; i < kRequests; ++i) {
    std::string body;
    net::EncodePut(&body, net::PutRequest{.key = Key("p", i), .value = Value("p", i)});
    puts[c->Send(static_cast<uint8_t>(net::Opcode::kPut), body)] = i;
  }
  ASSERT_EQ(static_cast<size_t>(kRequests), puts.size());
  for (int i = 0; i < kRequests; ++i) {
    auto reply = c->Receive(kClientTimeoutMs);
    KV_ASSERT_OK(reply);
    ASSERT_EQ(1u, puts.erase(reply->request_id)) << "unexpected or repeated request id " << reply->request_id;
    KV_ASSERT_OK(reply->status);
  }
  std::map<uint32_t, int> gets;
  for (int i = 0; i < kRequests; ++i) {
    std::string body;
    net::EncodeGet(&body, net::GetRequest{.key = Key("p", i)});
    gets[c->Send(static_cast<uint8_t>(net::Opcode::kGet), body)] = i;
  }
  for (int i = 0; i < kRequests; ++i) {
    auto reply = c->Receive(kClientTimeoutMs);
    KV_ASSERT_OK(reply);
    auto it = gets.find(reply->request_id);
    ASSERT_NE(gets.end(), it) << "unexpected or repeated request id " << reply->request_id;
    KV_ASSERT_OK(reply->status);
    auto read = DecodeReadResult(reply->payload);
    KV_ASSERT_OK(read);
    EXPECT_EQ(std::vector<std::string>{Value("p", it->second)}, read->values()) << "request " << it->first;
    gets.erase(it);
  }
  EXPECT_TRUE(gets.empty());
}

TEST_F(NodeBasicTest, AHundredConcurrentConnectionsAreAllServed) {
  constexpr int kConnections = 100;
  constexpr int kOpsEach = 20;
  // Open every connection first so all 100 are live at once.
  std::vector<std::unique_ptr<KvClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<KvClient>(node_.node().address()));
    KV_ASSERT_OK(clients.back()->Ping());
  }
  std::atomic<int> failures{0};
  std::vector<std::string> first_error(kConnections);
  std::vector<std::thread> threads;
  for (int t = 0; t < kConnections; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOpsEach; ++i) {
        const std::string key = Key("c" + std::to_string(t), i);
        auto put = clients[t]->Put(key, Value(key, i));
        auto get = clients[t]->Get(key);
        std::string error;
        if (!put.ok()) {
          error = "put: " + put.status().ToString();
        } else if (!get.ok()) {
          error = "get: " + get.status().ToString();
        } else if (get->values() != std::vector<std::string>{Value(key, i)}) {
          error = "get " + key + " returned another value";
        }
        if (!error.empty()) {
          if (failures.fetch_add(1) == 0 || first_error[t].empty()) first_error[t] = error;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string errors;
  for (const auto& e : first_error) {
    if (!e.empty()) errors += e + "\n";
  }
  EXPECT_EQ(0, failures.load()) << errors;
  // Every connection's writes are visible to a fresh one.
  KvClient fresh(node_.node().address());
  for (int t = 0; t < kConnections; t += 9) {
    const std::string key = Key("c" + std::to_string(t), kOpsEach - 1);
    auto get = fresh.Get(key);
    KV_ASSERT_OK(get);
    EXPECT_EQ(std::vector<std::string>{Value(key, kOpsEach - 1)}, get->values());
  }
}

}  // namespace
}  // namespace kvring::test
