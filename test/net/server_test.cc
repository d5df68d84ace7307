// Server tests over real loopback sockets: HELLO, request/reply, pipelining,
// deferred and out-of-order replies, many connections, limits.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "base/coding.h"
#include "net/blocking_client.h"
#include "net/server.h"
#include "test/net/test_handler.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::TestServer;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);

TEST(ServerTest, PingEchoesItsBody) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  EXPECT_EQ(client.server_node_id(), "test-node");
  EXPECT_EQ(client.server_cluster(), "kvring");
  auto reply = client.Call(kPing, "hello", 2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "hello");
}

}  // namespace
}  // namespace kvring::net
