#include "cmd/kvbench/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvring::cmd::kvbench {
namespace {

base::Result<BenchOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kvbench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

// The error message of a parse that must fail.
std::string ErrorOf(std::vector<std::string> args) {
  auto r = Parse(std::move(args));
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  return r.status().message();
}

TEST(KvbenchOptions, DefaultsFollowTheDesign) {
  auto r = Parse({"--target", "kv://127.0.0.1:7000"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BenchOptions& o = *r;
  ASSERT_EQ(o.targets.size(), 1u);
  EXPECT_EQ(o.targets[0].protocol, Protocol::kKv);
  EXPECT_EQ(o.targets[0].host, "127.0.0.1");
  EXPECT_EQ(o.targets[0].port, 7000);
  EXPECT_EQ(o.connections, 50);
  EXPECT_EQ(o.pipeline, 1);
  EXPECT_EQ(o.value_min, 100u);
  EXPECT_EQ(o.value_max, 10240u);
  EXPECT_DOUBLE_EQ(o.read_ratio, 0.5);
  EXPECT_EQ(o.distribution, Distribution::kUniform);
  EXPECT_DOUBLE_EQ(o.zipf_theta, 0.99);
  EXPECT_DOUBLE_EQ(o.duration_s, 10);
  EXPECT_TRUE(o.preload);
  EXPECT_TRUE(o.staleness);
  EXPECT_EQ(o.r, net::kConsistencyDefault);
  EXPECT_NE(o.seed, 0u);
}

TEST(KvbenchOptions, ParsesEveryFlag) {
  auto r = Parse({"--target", "kv://a:1", "--target=kv://[::1]:2", "--connections", "8", "--pipeline", "16",
                  "--threads", "2", "--keys", "5000", "--key-size", "12", "--key-prefix", "b:", "--value-size", "1k-4k",
                  "--read-ratio", "0.9", "--distribution", "zipfian", "--zipf-theta", "0.8", "--requests", "1000",
                  "--warmup", "0.5", "--rate", "2000", "--r", "QUORUM", "--w", "2", "--no-preload", "--json", "o.json",
                  "--csv", "o.csv", "--seed", "42", "--quiet", "--cluster", "c1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BenchOptions& o = *r;
  ASSERT_EQ(o.targets.size(), 2u);
  EXPECT_EQ(o.targets[1].host, "::1");
  EXPECT_EQ(o.connections, 8);
  EXPECT_EQ(o.pipeline, 16);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(o.keys, 5000u);
  EXPECT_EQ(o.key_size, 12);
  EXPECT_EQ(o.key_prefix, "b:");
  EXPECT_EQ(o.value_min, 1024u);
  EXPECT_EQ(o.value_max, 4096u);
  EXPECT_DOUBLE_EQ(o.read_ratio, 0.9);
  EXPECT_EQ(o.distribution, Distribution::kZipfian);
  EXPECT_DOUBLE_EQ(o.zipf_theta, 0.8);
  EXPECT_EQ(o.requests, 1000u);
  EXPECT_DOUBLE_EQ(o.warmup_s, 0.5);
  EXPECT_DOUBLE_EQ(o.rate, 2000);
  EXPECT_EQ(o.r, net::kConsistencyQuorum);
  EXPECT_EQ(o.w, 2);
  EXPECT_FALSE(o.preload);
  EXPECT_EQ(o.json_path, "o.json");
  EXPECT_EQ(o.csv_path, "o.csv");
  EXPECT_EQ(o.seed, 42u);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.cluster, "c1");
}

// (From branch coord.)
TEST(KvbenchOptions, PerDcLevelsParseInAnyCase) {
  auto r = Parse({"--target", "kv://a:1", "--r", "local_quorum", "--w", "Each_Quorum"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->r, net::kConsistencyLocalQuorum);
  EXPECT_EQ(r->w, net::kConsistencyEachQuorum);
  auto one = Parse({"--target", "kv://a:1", "--r", "LOCAL_ONE"});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->r, net::kConsistencyLocalOne);
}

TEST(KvbenchOptions, RedisTargetAndFixedValueSize) {
  auto r = Parse({"--target", "redis://localhost:6379", "--value-size", "100"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->targets[0].protocol, Protocol::kRedis);
  EXPECT_EQ(r->value_min, 100u);
  EXPECT_EQ(r->value_max, 100u);
}

TEST(KvbenchOptions, WorkloadPresetsAndOverrides) {
  auto d = Parse({"--target", "kv://a:1", "--workload", "d"});
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->read_ratio, 0.95);
  EXPECT_EQ(d->distribution, Distribution::kLatest);
  auto f = Parse({"--target", "kv://a:1", "--workload", "f"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->rmw);
  EXPECT_EQ(f->distribution, Distribution::kZipfian);
  auto c = Parse({"--target", "kv://a:1", "--workload", "c"});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->read_ratio, 1.0);
  // Explicit flags win over the preset, in any order.
  auto a = Parse({"--read-ratio", "0.7", "--target", "kv://a:1", "--workload", "a", "--distribution", "uniform"});
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->read_ratio, 0.7);
  EXPECT_EQ(a->distribution, Distribution::kUniform);
  EXPECT_EQ(a->workload, "a");
}

TEST(KvbenchOptions, BadValuesNameTheFlagAndTheProblem) {
  const std::string t = "kv://a:1";
  EXPECT_NE(ErrorOf({"--connections", "3"}).find("--target is required"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--connections", "0"}).find("--connections: 0 is out of range"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--connections", "many"}).find("--connections: 'many' is not a whole number"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--pipeline", "-1"}).find("--pipeline"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--read-ratio", "1.5"}).find("--read-ratio: '1.5' is not a number in 0..1"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--value-size", "10-5"}).find("--value-size: '10-5' needs 1 <= MIN <= MAX"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--value-size", "big"}).find("--value-size: 'big' is not a byte size"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--value-size", "0"}).find("--value-size"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--value-size", "1g"}).find("over the maximum"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--distribution", "pareto"}).find("--distribution: 'pareto'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--workload", "e"}).find("--workload: 'e' is not one of a, b, c, d, f"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--r", "MOST"}).find("--r: 'MOST'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--w", "0"}).find("--w: '0'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--duration", "0"}).find("--duration must be > 0"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--duration", "ten"}).find("--duration: 'ten' is not a number"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--duration", "5", "--requests", "9"}).find("not both"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--rate", "-5"}).find("--rate"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--timeline-ms", "10"}).find("--timeline-ms"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--timeline-ms", "5000"}).find("--timeline-ms"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--zipf-theta", "0"}).find("--zipf-theta"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--keys", "100000", "--key-size", "4"}).find("--key-size 4 is too small"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--threads", "4", "--connections", "2"}).find("at least --threads"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--bogus", "1"}).find("unknown flag --bogus"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "stray"}).find("unexpected argument 'stray'"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", t, "--connections", "5000", "--pipeline", "4000"}).find("in flight"),
            std::string::npos);
}

TEST(KvbenchOptions, BadTargetsSayWhatIsExpected) {
  EXPECT_NE(ErrorOf({"--target", "http://a:1"}).find("unknown scheme"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", "kv://hostonly"}).find("missing HOST:PORT"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", "kv://h:99999"}).find("port out of range"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", "kv://h:7x"}).find("bad port"), std::string::npos);
  EXPECT_NE(ErrorOf({"--target", "redis://h:"}).find("expected kv://HOST:PORT or redis://HOST:PORT"),
            std::string::npos);
}

TEST(KvbenchOptions, SmallValuesTurnTheStalenessCheckOff) {
  auto r = Parse({"--target", "kv://a:1", "--value-size", "16"});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->staleness);
  auto off = Parse({"--target", "kv://a:1", "--no-staleness"});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->staleness);
  EXPECT_NE(ErrorOf({"--target", "kv://a:1", "--keys", "1000000000"}).find("add --no-staleness"), std::string::npos);
  EXPECT_TRUE(Parse({"--target", "kv://a:1", "--keys", "1000000000", "--no-staleness"}).ok());
}

TEST(KvbenchOptions, HelpExplainsEveryFlag) {
  auto r = Parse({"--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->help);
  const std::string help = HelpText();
  for (const char* flag : {"--target", "--connections", "--pipeline", "--threads", "--keys", "--key-size",
                           "--key-prefix", "--value-size", "--read-ratio", "--workload", "--distribution",
                           "--zipf-theta", "--duration", "--requests", "--warmup", "--rate", "--r ", "--w ",
                           "--no-preload", "--no-staleness", "--json", "--csv", "--timeline-ms", "--seed", "--quiet", "--cluster",
                           "--help"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace kvring::cmd::kvbench
