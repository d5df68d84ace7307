// Addresses and socket helpers: HOST:PORT parsing with clear errors, printing,
// source-host parsing, listening on port 0, and bind/connect failures.
#include "net/socket.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using base::Status;

TEST(SocketAddressTest, ParsesIpv4LocalhostAndBracketedIpv6) {
  auto a = SocketAddress::Parse("127.0.0.1:7000");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 7000);
  EXPECT_EQ(a->ToString(), "127.0.0.1:7000");
  auto l = SocketAddress::Parse("localhost:1");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->ToString(), "127.0.0.1:1");
  auto v6 = SocketAddress::Parse("[::1]:65535");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->ToString(), "[::1]:65535");
  auto any = SocketAddress::Parse("0.0.0.0:0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->port(), 0);
}

TEST(SocketAddressTest, MalformedAddressesAreRejectedNamingInputAndProblem) {
  struct Case {
    const char* input;
    const char* problem;
  };
  for (const Case& c : {Case{"127.0.0.1", "expected HOST:PORT"}, Case{"127.0.0.1:", "port must be"},
                        Case{"127.0.0.1:65536", "port must be"}, Case{"127.0.0.1:7x", "port must be"},
                        Case{":7000", "missing host"}, Case{"db.example.com:7000", "not resolved"},
                        Case{"::1:7000", "expected HOST:PORT"}, Case{"[::1]7000", "expected HOST:PORT"},
                        Case{"300.1.1.1:80", "numeric IP"}}) {
    auto a = SocketAddress::Parse(c.input);
    ASSERT_FALSE(a.ok()) << c.input;
    EXPECT_TRUE(a.status().IsInvalidArgument());
    EXPECT_NE(a.status().message().find(std::string("'") + c.input + "'"), std::string::npos) << a.status().ToString();
    EXPECT_NE(a.status().message().find(c.problem), std::string::npos) << a.status().ToString();
  }
}

TEST(SocketAddressTest, ParseHostTakesAHostOrAHostPortAndSetsThePort) {
  auto plain = SocketAddress::ParseHost("127.0.0.2", 0);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->ToString(), "127.0.0.2:0");
  auto from_listen = SocketAddress::ParseHost("127.0.0.2:7002", 0);  // a node's listen address
  ASSERT_TRUE(from_listen.ok());
  EXPECT_EQ(from_listen->ToString(), "127.0.0.2:0");
  auto v6 = SocketAddress::ParseHost("[::1]", 5);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ToString(), "[::1]:5");
  EXPECT_FALSE(SocketAddress::ParseHost("", 0).ok());
  EXPECT_FALSE(SocketAddress::ParseHost("host.example", 0).ok());
}

TEST(SocketTest, ListenOnPortZeroPicksAPortAndATakenPortIsAClearError) {
  auto addr = SocketAddress::Parse("127.0.0.1:0");
  auto fd = Listen(*addr);
  ASSERT_TRUE(fd.ok()) << fd.status().ToString();
  auto local = LocalAddress(fd->get());
  ASSERT_TRUE(local.ok());
  EXPECT_NE(local->port(), 0);
  auto again = Listen(*local);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().message().rfind("listen on " + local->ToString() + ": bind: ", 0), 0u)
      << again.status().ToString();
}

TEST(SocketTest, ConnectToAClosedPortFailsWithConnectionRefused) {
  auto to = SocketAddress::Parse("127.0.0.1:" + std::to_string(test::PickFreePort()));
  bool in_progress = false;
  auto fd = Connect(*to, nullptr, &in_progress);
  Status s = fd.status();
  if (fd.ok() && in_progress) {
    pollfd p{fd->get(), POLLOUT, 0};
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    s = SocketError(fd->get(), "connect");
  }
  ASSERT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.ToString();
}

TEST(SocketTest, BindingToAForeignSourceAddressFailsNamingIt) {
  auto to = SocketAddress::Parse("127.0.0.1:9");
  auto source = SocketAddress::ParseHost("192.0.2.1", 0);  // TEST-NET-1: not an address of this host
  bool in_progress = false;
  auto fd = Connect(*to, &source.value(), &in_progress);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("bind source 192.0.2.1:0"), std::string::npos) << fd.status().ToString();
}

}  // namespace
}  // namespace kvring::net
