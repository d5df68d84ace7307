// Client authentication (net/client_auth.h, docs/protocol.md section 6.2): the
// exchange against vectors computed independently (Python's hashlib and hmac,
// docs/protocol.md has them byte by byte), the users file and credentials
// parsing, and the handshake over real loopback sockets: a server with users
// takes a client only once it proved a user's password, names itself only then,
// and reads nothing else from it before.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "base/coding.h"
#include "net/blocking_client.h"
#include "net/client_auth.h"
#include "net/server.h"
#include "test/net/raw_socket.h"
#include "test/net/test_handler.h"
#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using base::Status;
using test::HexDigits;
using testing::RawSocket;
using testing::TestServer;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);

// alice / "pencil", salt 00..0f, 4096 iterations; nonces 0x11 x 16 (client) and 0x22 x 16 (server).
constexpr char kAliceLine[] =
    "alice read-write 4096 000102030405060708090a0b0c0d0e0f "
    "cc709da25db4e38fd9c96ccf2e2ee8c40a4291a98ac3d67e13853f400a5dff96 "
    "75de697813a2b559cb345bbb566c0ff8788369ac383940afdfde9e5425a16221";
constexpr char kChallengeHex[] = "22222222222222222222222222222222000102030405060708090a0b0c0d0e0f00100000";
constexpr char kProofHex[] = "a3d18fc520a01cefd5fa63ae298d0f63a954a7f78653a2e85655b2d780f25cbc";
constexpr char kServerSignatureHex[] = "d22a55e10278cd9dd9d221c90ec7634ceea53e4fe77ec048e361c24ee6071b55";

std::string Bytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

UserTable Users(const std::string& text) {
  auto t = UserTable::Parse(text, "users");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : std::move(UserTable::Parse("", "empty")).value();
}

const std::string kClientNonce(16, '\x11');

TEST(ClientAuthTest, ProofAndSignatureMatchIndependentlyComputedVectors) {
  const ClientCredentials alice{"alice", "pencil"};
  std::string auth, expected;
  const std::string challenge = Bytes(kChallengeHex);
  Status s = AnswerClientChallenge(&alice, "kvring", kClientNonce, challenge, "srv", &auth, &expected);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string_view proof;
  ASSERT_TRUE(DecodeAuth(auth, &proof));
  EXPECT_EQ(kProofHex, HexDigits(proof));
  EXPECT_EQ(kServerSignatureHex, HexDigits(expected));

  const UserTable users = Users(kAliceLine);
  Access access = Access::kRead;
  std::string signature;
  s = VerifyClientProof(users, "kvring", "alice", kClientNonce, challenge, proof, &access, &signature);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Access::kReadWrite, access);
  EXPECT_EQ(kServerSignatureHex, HexDigits(signature));
  EXPECT_EQ(challenge, users.Challenge("alice", std::string(16, '\x22')));
}

TEST(ClientAuthTest, AWrongPasswordAnUnknownUserAndAReplayedProofAreRefusedAlike) {
  const UserTable users = Users(kAliceLine);
  const std::string challenge = Bytes(kChallengeHex);
  auto verify = [&](std::string_view user, std::string_view nonce, std::string_view chal, std::string_view proof) {
    Access access;
    std::string sig;
    return VerifyClientProof(users, "kvring", user, nonce, chal, proof, &access, &sig);
  };
  const std::string proof = Bytes(kProofHex);
  const ClientCredentials wrong{"alice", "pencil2"};
  std::string auth, expected;
  ASSERT_TRUE(AnswerClientChallenge(&wrong, "kvring", kClientNonce, challenge, "srv", &auth, &expected).ok());
  std::string_view wrong_proof;
  ASSERT_TRUE(DecodeAuth(auth, &wrong_proof));
  const Status bad_password = verify("alice", kClientNonce, challenge, wrong_proof);
  EXPECT_TRUE(bad_password.IsPermissionDenied()) << bad_password.ToString();
  EXPECT_EQ("authentication failed for user 'alice': unknown user or wrong password", bad_password.message());
  const Status unknown = verify("mallory", kClientNonce, challenge, proof);
  EXPECT_EQ("authentication failed for user 'mallory': unknown user or wrong password", unknown.message());
  // The same proof under a fresh server nonce (a replay) or for another cluster.
  std::string fresh = challenge;
  fresh[0] = 'x';
  EXPECT_TRUE(verify("alice", kClientNonce, fresh, proof).IsPermissionDenied());
  EXPECT_TRUE(verify("alice", std::string(16, 'y'), challenge, proof).IsPermissionDenied());
  EXPECT_TRUE(verify("alice", kClientNonce, challenge, proof.substr(0, 31)).IsPermissionDenied());
}

TEST(ClientAuthTest, AnUnknownUsersChallengeLooksLikeARealOneAndStaysTheSame) {
  const UserTable users = Users(kAliceLine);
  const std::string nonce(16, 'n');
  const std::string a = users.Challenge("mallory", nonce), b = users.Challenge("mallory", nonce);
  EXPECT_EQ(a.size(), users.Challenge("alice", nonce).size());
  EXPECT_EQ(a, b) << "the made-up salt must not change between attempts (it would tell the user does not exist)";
  EXPECT_NE(a, users.Challenge("trudy", nonce));
}

TEST(ClientAuthTest, MadeLinesParseAndVerifyWithTheirPassword) {
  for (Access role : {Access::kRead, Access::kReadWrite, Access::kAdmin}) {
    const std::string line = MakeUserLine("bob", role, "correct horse", 16);
    const UserTable users = Users("# a comment\n\n" + line + "\n");
    ASSERT_NE(nullptr, users.Find("bob"));
    EXPECT_EQ(role, users.Find("bob")->access);
    EXPECT_EQ(std::string::npos, line.find("correct horse"));
    const std::string challenge = users.Challenge("bob", std::string(16, 's'));
    const ClientCredentials bob{"bob", "correct horse"};
    std::string auth, expected, signature;
    ASSERT_TRUE(AnswerClientChallenge(&bob, "c", kClientNonce, challenge, "srv", &auth, &expected).ok());
    std::string_view proof;
    ASSERT_TRUE(DecodeAuth(auth, &proof));
    Access access;
    ASSERT_TRUE(VerifyClientProof(users, "c", "bob", kClientNonce, challenge, proof, &access, &signature).ok());
    EXPECT_EQ(role, access);
    EXPECT_TRUE(CheckServerSignature(expected, signature, "srv").ok());
    EXPECT_TRUE(CheckServerSignature(expected, std::string(32, 'z'), "srv").IsPermissionDenied());
  }
}

TEST(ClientAuthTest, MalformedUsersFilesAreRefusedNamingTheLine) {
  auto expect_refused = [](const std::string& text, const std::string& part) {
    auto t = UserTable::Parse(text, "users file u");
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(std::string::npos, t.status().message().find(part)) << t.status().ToString();
  };
  const std::string line = MakeUserLine("bob", Access::kRead, "pw");
  expect_refused("bob read 4096", "line 1");
  expect_refused("\n" + line + "\n" + line, "line 3");
  expect_refused("\n" + line + "\n" + line, "listed twice");
  expect_refused("bob root 4096 00 11 22", "role must be");
  expect_refused(line.substr(0, line.size() - 2), "hex digits");
  expect_refused("b*b" + line.substr(3), "user name");
  expect_refused("bob read 0" + line.substr(line.find(' ', 9)), "iterations");
}

TEST(ClientAuthTest, UsersAndCredentialsFilesMustBePrivate) {
  test::TempDir dir;
  const std::string users = dir.Sub("users"), creds = dir.Sub("creds");
  std::ofstream(users) << kAliceLine << "\n";
  std::ofstream(creds) << "alice:pencil\n";
  ASSERT_EQ(0, ::chmod(users.c_str(), 0640));
  ASSERT_EQ(0, ::chmod(creds.c_str(), 0604));
  auto t = UserTable::FromFile(users);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(std::string::npos, t.status().message().find("chmod 600")) << t.status().ToString();
  EXPECT_FALSE(LoadClientCredentials(creds).ok());
  ASSERT_EQ(0, ::chmod(users.c_str(), 0600));
  ASSERT_EQ(0, ::chmod(creds.c_str(), 0600));
  ASSERT_TRUE(UserTable::FromFile(users).ok());
  auto c = LoadClientCredentials(creds);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ("alice", c->user);
  EXPECT_EQ("pencil", c->password);
  std::ofstream(creds, std::ios::trunc) << "no colon here\n";
  EXPECT_TRUE(LoadClientCredentials(creds).status().IsInvalidArgument());
}

TEST(ClientAuthTest, CredentialsComeFromTheEnvironmentWithoutAFile) {
  ::unsetenv("KVRING_USER");
  ::unsetenv("KVRING_PASSWORD");
  auto none = LoadClientCredentials("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ::setenv("KVRING_USER", "alice", 1);
  EXPECT_TRUE(LoadClientCredentials("").status().IsInvalidArgument()) << "a user without a password";
  ::setenv("KVRING_PASSWORD", "pencil", 1);
  auto env = LoadClientCredentials("");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ("alice", env->user);
  EXPECT_EQ("pencil", env->password);
  ::unsetenv("KVRING_USER");
  ::unsetenv("KVRING_PASSWORD");
}

// --- Over real sockets ---------------------------------------------------------------

struct AuthServer {
  explicit AuthServer(const std::string& users_text) : users(Users(users_text)), ts(Options(&users)) {}
  static ServerOptions Options(const UserTable* users) {
    ServerOptions o;
    o.users = users;
    return o;
  }
  UserTable users;
  TestServer ts;
};

BlockingClientOptions As(const ClientCredentials* c) { return BlockingClientOptions{.id = "c", .credentials = c}; }

TEST(ClientAuthServerTest, AUserWithItsPasswordIsServedAndLearnsWhoTheServerIs) {
  AuthServer s(kAliceLine);
  ASSERT_TRUE(s.ts.Start().ok());
  const ClientCredentials alice{"alice", "pencil"};
  BlockingClient client(As(&alice));
  Status st = client.Connect(s.ts.address(), 5000);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ("kvring", client.server_cluster());
  EXPECT_EQ("test-node", client.server_node_id());
  auto reply = client.Call(kPing, "hi", 2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ("hi", *reply);
  EXPECT_EQ(0u, s.ts.server()->stats().auth_failures);
}

TEST(ClientAuthServerTest, NoCredentialsOrAWrongPasswordIsRefusedAndCounted) {
  AuthServer s(kAliceLine);
  ASSERT_TRUE(s.ts.Start().ok());
  BlockingClient anonymous;
  Status st = anonymous.Connect(s.ts.address(), 5000);
  EXPECT_TRUE(st.IsPermissionDenied()) << st.ToString();
  EXPECT_NE(std::string::npos, st.message().find("requires client authentication")) << st.ToString();
  const ClientCredentials wrong{"alice", "pen"};
  BlockingClient guesser(As(&wrong));
  st = guesser.Connect(s.ts.address(), 5000);
  EXPECT_TRUE(st.IsPermissionDenied()) << st.ToString();
  EXPECT_NE(std::string::npos, st.message().find("unknown user or wrong password")) << st.ToString();
  EXPECT_EQ(0u, s.ts.handler()->requests());
  EXPECT_TRUE(testing::WaitUntil([&] { return s.ts.server()->stats().auth_failures == 2; }));
}

TEST(ClientAuthServerTest, TheChallengeNamesNothingAndNoFrameIsHandledBeforeTheProof) {
  AuthServer s(kAliceLine);
  ASSERT_TRUE(s.ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(s.ts.port()));
  std::string hello, frames;
  EncodeHello(&hello, HelloRequest{kProtocolVersion, PeerRole::kClient, "", "eager", kClientNonce, "alice"});
  AppendFrame(&frames, static_cast<uint8_t>(Opcode::kHello), 0, 0, hello);
  AppendFrame(&frames, kPing, 0, 1, "sent before proving anything");
  ASSERT_TRUE(raw.Write(frames));
  auto challenge = raw.ReadReply(2000);
  ASSERT_TRUE(challenge.ok() && challenge->status.ok());
  HelloReply info;
  ASSERT_TRUE(DecodeHelloReply(challenge->payload, &info));
  EXPECT_EQ("", info.cluster);
  EXPECT_EQ("", info.node_id);
  EXPECT_EQ(36u, info.challenge.size());
  auto refused = raw.ReadReply(2000);
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->status.IsPermissionDenied()) << refused->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
  EXPECT_EQ(0u, s.ts.handler()->requests());
}

TEST(ClientAuthServerTest, CredentialsAgainstAServerWithoutUsersAreNotNeeded) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  const ClientCredentials alice{"alice", "pencil"};
  BlockingClient client(As(&alice));
  ASSERT_TRUE(client.Connect(ts.address(), 5000).ok());
  EXPECT_TRUE(client.Call(kPing, "x", 2000).ok());
}

}  // namespace
}  // namespace kvring::net
