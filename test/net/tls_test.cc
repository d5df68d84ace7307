// TLS under the framed protocol (net/tls.h) over real loopback sockets: a server
// with a certificate and clients (blocking and RPC) that verify it; requests and
// replies, large pipelined frames across TLS record boundaries, certificates that
// must be refused (another CA, another address, none where one is required), and
// peers that do not speak TLS on each side, after which the server still serves.
#include "net/tls.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "base/random.h"
#include "net/blocking_client.h"
#include "net/loop_thread.h"
#include "net/rpc_client.h"
#include "test/net/test_handler.h"
#include "test/util/test_util.h"
#include "test/util/tls_certs.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::Fixed32Body;
using testing::TestServer;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::HaveOpenssl()) return;
    dir_ = new test::TempDir();
    ok_ = test::MakeSelfSignedCert(dir_->path(), "server", &server_) &&
          test::MakeSelfSignedCert(dir_->path(), "other", &other_) &&
          test::MakeSelfSignedCert(dir_->path(), "elsewhere", &elsewhere_, "127.0.0.2") &&
          test::MakeSelfSignedCert(dir_->path(), "client", &client_);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!test::HaveOpenssl()) GTEST_SKIP() << "the openssl command is missing: cannot make test certificates";
    ASSERT_TRUE(ok_) << "openssl req failed to make the test certificates";
  }

  // A client context trusting ca (a self-signed certificate is its own CA).
  static std::unique_ptr<TlsContext> Client(const test::TlsFiles& ca, const test::TlsFiles* mine = nullptr) {
    auto c = mine == nullptr ? TlsContext::ForClient(ca.cert) : TlsContext::ForClient(ca.cert, mine->cert, mine->key);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  static std::unique_ptr<TlsContext> Server(const test::TlsFiles& files, const std::string& client_ca = "") {
    auto c = TlsContext::ForServer(files.cert, files.key, client_ca);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  // Serves TLS with files' certificate on ts_ (clients need one signed by client_ca, if given).
  void Serve(const test::TlsFiles& files, const std::string& client_ca = "") {
    server_ctx_ = Server(files, client_ca);
    ServerOptions o;
    o.tls = server_ctx_.get();
    ts_ = std::make_unique<TestServer>(o);
    ASSERT_TRUE(ts_->Start().ok());
  }
  // A client trusting ca (presenting mine, if given), after Connect to ts_: *s.
  std::unique_ptr<BlockingClient> Dial(const test::TlsFiles& ca, Status* s, const test::TlsFiles* mine = nullptr) {
    client_ctxs_.push_back(Client(ca, mine));
    auto client = std::make_unique<BlockingClient>(BlockingClientOptions{.tls = client_ctxs_.back().get()});
    *s = client->Connect(ts_->address(), 5000);
    return client;
  }
  static void ExpectEcho(BlockingClient* client, const std::string& body) {
    auto reply = client->Call(testing::kEcho, body, 5000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(body, *reply);
  }

  std::unique_ptr<TlsContext> server_ctx_;
  std::vector<std::unique_ptr<TlsContext>> client_ctxs_;
  std::unique_ptr<TestServer> ts_;
  static inline test::TempDir* dir_ = nullptr;
  static inline bool ok_ = false;
  static inline test::TlsFiles server_, other_, elsewhere_, client_;
};

TEST_F(TlsTest, RequestsAndRepliesTravelInsideTls) {
  Serve(server_);
  Status s;
  auto client = Dial(server_, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ("test-node", client->server_node_id());
  ExpectEcho(client.get(), "hello over TLS");
  ExpectEcho(client.get(), std::string(100000, 'x'));
  EXPECT_EQ(2u, ts_->handler()->requests());
}

// Frames of up to 300 KB pipelined both ways: every reply spans many TLS records
// and records end in the middle of frames (and of frame headers).
TEST_F(TlsTest, LargePipelinedFramesCrossRecordBoundaries) {
  Serve(server_);
  Status s;
  auto client = Dial(server_, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  base::Random rnd(test::TestSeed("LargePipelinedFramesCrossRecordBoundaries"));
  std::map<uint32_t, std::string> sent;
  for (int i = 0; i < 40; ++i) {
    std::string body(1 + rnd.Uniform(300000), 'a' + static_cast<char>(i % 26));
    sent[client->Send(testing::kEcho, body)] = body;
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    auto reply = client->Receive(10000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_TRUE(reply->status.ok()) << reply->status.ToString();
    ASSERT_EQ(1u, sent.count(reply->request_id));
    EXPECT_EQ(sent[reply->request_id], reply->payload);
  }
  EXPECT_EQ(40u, ts_->handler()->requests());
}

TEST_F(TlsTest, AServerCertificateFromAnotherCaIsRefusedNamingTheProblem) {
  Serve(server_);
  Status s;
  Dial(other_, &s);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("TLS handshake with " + ts_->address() + " failed")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("certificate verify failed")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("self-signed certificate")) << s.ToString();
  EXPECT_EQ(0u, ts_->handler()->requests());
  auto good = Dial(server_, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();  // the server is unharmed
  ExpectEcho(good.get(), "still here");
}

TEST_F(TlsTest, ACertificateForAnotherAddressIsRefused) {
  Serve(elsewhere_);  // names 127.0.0.2; we dial 127.0.0.1
  Status s;
  Dial(elsewhere_, &s);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("IP address mismatch")) << s.ToString();
}

TEST_F(TlsTest, APlainClientAgainstATlsPortFailsQuicklyAndTheServerIsUnharmed) {
  Serve(server_);
  BlockingClient plain;
  const auto start = std::chrono::steady_clock::now();
  Status s = plain.Connect(ts_->address(), 5000);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();  // answered in plain text, not a timeout
  EXPECT_NE(std::string::npos, s.message().find("this port requires TLS")) << s.ToString();
  EXPECT_LT(took, std::chrono::seconds(2)) << s.ToString();
  EXPECT_EQ(0u, ts_->handler()->requests());
  auto good = Dial(server_, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectEcho(good.get(), "still here");
}

TEST_F(TlsTest, ATlsClientAgainstAPlainPortFailsNamingTheCause) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  auto client_ctx = Client(server_);
  BlockingClient client({.tls = client_ctx.get()});
  Status s = client.Connect(ts.address(), 5000);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("TLS handshake with " + ts.address() + " failed")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("not TLS")) << s.ToString();
  BlockingClient plain;
  ASSERT_TRUE(plain.Connect(ts.address(), 5000).ok());
}

TEST_F(TlsTest, AServerThatRequiresClientCertificatesRefusesClientsWithout) {
  Serve(server_, client_.cert);
  Status s;
  Dial(server_, &s);
  ASSERT_FALSE(s.ok());  // TLS 1.3: the refusal arrives with the first read after the handshake
  EXPECT_NE(std::string::npos, s.message().find("certificate required")) << s.ToString();
  auto with = Dial(server_, &s, &client_);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectEcho(with.get(), "known client");
}

TEST_F(TlsTest, MissingOrMismatchedFilesNameTheFile) {
  auto missing = TlsContext::ForServer(dir_->Sub("nope.pem"), server_.key);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string::npos, missing.status().message().find("nope.pem")) << missing.status().ToString();
  auto mismatched = TlsContext::ForServer(server_.cert, other_.key);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(std::string::npos, mismatched.status().message().find("mismatch")) << mismatched.status().ToString();
  auto no_ca = TlsContext::ForClient(dir_->Sub("no-ca.pem"));
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(std::string::npos, no_ca.status().message().find("no-ca.pem")) << no_ca.status().ToString();
}

// The node-to-node client on its event loop: TLS handshake inside the first
// write, pipelined calls with large replies, all answered.
TEST_F(TlsTest, RpcClientCallsOverTls) {
  Serve(server_);
  auto client_ctx = Client(server_);
  auto thread = LoopThread::Start("tls-rpc");
  ASSERT_TRUE(thread.ok());
  {
    RpcClientOptions o;
    o.tls = client_ctx.get();
    o.connect_timeout_ms = 5000;
    RpcClient rpc((*thread)->loop(), o);
    std::mutex mu;
    std::condition_variable cv;
    int done = 0, good = 0;
    constexpr int kCalls = 50;
    for (int i = 0; i < kCalls; ++i) {
      const uint32_t size = 1000 + 7000u * static_cast<uint32_t>(i);
      rpc.Call(ts_->address(), testing::kBig, Fixed32Body(size), 10000, [&, size](const Status& s, std::string_view p) {
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok() && p.size() == size) ++good;
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return done == kCalls; }));
    EXPECT_EQ(kCalls, good);
  }
  (*thread)->Stop();
}

}  // namespace
}  // namespace kvring::net
