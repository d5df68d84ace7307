// kvctl as a process against a real 3-node cluster (N=3): ring ownership with
// percentages, member status, siblings shown with a context that `put --context`
// resolves, `get --json` (parsed), `get --local`, and per-request --r/--w.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/common/text.h"
#include "repl/version_text.h"
#include "test/util/kvnode_process.h"

namespace kvring::test {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// --- A tiny JSON reader, enough to check kvctl's output parses ----------------------

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string str;
  std::vector<Json> items;                          // array
  std::vector<std::pair<std::string, Json>> fields;  // object
  const Json* Field(const std::string& name) const {
    for (const auto& [k, v] : fields) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : t_(text) {}
  // The whole text must be one value (surrounding white space allowed).
  bool Parse(Json* out) {
    if (!Value(out)) return false;
    Space();
    return pos_ == t_.size();
  }

 private:
  void Space() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\t' || t_[pos_] == '\r')) pos_++;
  }
  bool Eat(char c) {
    Space();
    if (pos_ < t_.size() && t_[pos_] == c) {
      pos_++;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (t_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (pos_ < t_.size() && t_[pos_] != '"') {
      char c = t_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= t_.size()) return false;
      char e = t_[pos_++];
      static const std::string kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
      size_t k = kFrom.find(e);
      if (k != std::string::npos) {
        out->push_back(kTo[k]);
      } else if (e == 'u' && pos_ + 4 <= t_.size()) {
        unsigned long cp = std::strtoul(std::string(t_.substr(pos_, 4)).c_str(), nullptr, 16);
        pos_ += 4;
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else {
          out->push_back('?');  // enough for a check: kvctl escapes only control bytes
        }
      } else {
        return false;
      }
    }
    return Eat('"');
  }
  bool Value(Json* v) {
    Space();
    if (pos_ >= t_.size()) return false;
    char c = t_[pos_];
    if (c == '"') {
      v->type = Json::Type::kString;
      return String(&v->str);
    }
    if (c == '[') {
      pos_++;
      v->type = Json::Type::kArray;
      if (Eat(']')) return true;
      do {
        v->items.emplace_back();
        if (!Value(&v->items.back())) return false;
      } while (Eat(','));
      return Eat(']');
    }
    if (c == '{') {
      pos_++;
      v->type = Json::Type::kObject;
      if (Eat('}')) return true;
      do {
        std::string key;
        if (!String(&key) || !Eat(':')) return false;
        v->fields.emplace_back(key, Json());
        if (!Value(&v->fields.back().second)) return false;
      } while (Eat(','));
      return Eat('}');
    }
    if (Word("true") || Word("false")) {
      v->type = Json::Type::kBool;
      v->boolean = t_[pos_ - 1] == 'e' && t_[pos_ - 2] == 'u';
      return true;
    }
    if (Word("null")) return true;
    size_t start = pos_;
    while (pos_ < t_.size() && (std::isdigit(static_cast<unsigned char>(t_[pos_])) || t_[pos_] == '-' ||
                                t_[pos_] == '.' || t_[pos_] == 'e' || t_[pos_] == 'E' || t_[pos_] == '+')) {
      pos_++;
    }
    if (pos_ == start) return false;
    v->type = Json::Type::kNumber;
    v->number = std::strtod(std::string(t_.substr(start, pos_ - start)).c_str(), nullptr);
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
};

TEST(KvctlJsonReader, ParsesWhatItShouldAndRejectsGarbage) {
  Json j;
  ASSERT_TRUE(JsonReader(R"({"a": [1, "x\n", {"b": true}], "c": null})").Parse(&j));
  ASSERT_NE(nullptr, j.Field("a"));
  EXPECT_EQ(3u, j.Field("a")->items.size());
  EXPECT_EQ("x\n", j.Field("a")->items[1].str);
  for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "\"unterminated", "{} x"}) {
    Json k;
    EXPECT_FALSE(JsonReader(bad).Parse(&k)) << bad;
  }
}

// --- The cluster --------------------------------------------------------------------

class KvctlClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster({.nodes = 3, .n = 3});
    base::Status s = cluster_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // kvctl --host <node i> args...
  static ProgramResult Kvctl(size_t node, std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {BinaryPath("kvctl"), "--host", cluster_->node(node).address()});
    return RunProgram(args, input);
  }

  // Makes `key` hold two siblings: two puts from the same stale context.
  static void MakeSiblings(const std::string& key) {
    ASSERT_TRUE(cluster_->client(2).Put(key, "base", net::kConsistencyAll).ok());
    auto base = cluster_->client(2).Get(key, net::kConsistencyAll);
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    ASSERT_TRUE(cluster_->client(0).Put(key, "left", 2, base->context).ok());
    ASSERT_TRUE(cluster_->client(1).Put(key, "right", 2, base->context).ok());
  }

  static Cluster* cluster_;
};

Cluster* KvctlClusterTest::cluster_ = nullptr;

TEST_F(KvctlClusterTest, RingPrintsEveryNodeWithItsShareInPercent) {
  ProgramResult ring = Kvctl(0, {"ring"});
  ASSERT_EQ(0, ring.exit_code) << ring.ToString();
  EXPECT_TRUE(Contains(ring.out, "3 node(s)")) << ring.out;
  double primary_total = 0;
  for (size_t i = 0; i < 3; ++i) {
    const std::string id = cluster_->node(i).id();
    std::istringstream lines(ring.out);
    std::string line;
    bool found = false;
    while (std::getline(lines, line)) {
      if (line.rfind(id + " ", 0) != 0) continue;
      found = true;
      EXPECT_TRUE(Contains(line, cluster_->node(i).address())) << line;
      // "... replica% primary%": the last two fields end in '%'.
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      ASSERT_GE(f.size(), 2u) << line;
      ASSERT_EQ('%', f[f.size() - 1].back()) << line;
      ASSERT_EQ('%', f[f.size() - 2].back()) << line;
      const double replica = std::strtod(f[f.size() - 2].c_str(), nullptr);
      const double primary = std::strtod(f[f.size() - 1].c_str(), nullptr);
      EXPECT_NEAR(100.0, replica, 0.5) << "with N=3 on 3 nodes every node holds the whole ring: " << line;
      EXPECT_GT(primary, 10.0) << line;
      primary_total += primary;
    }
    EXPECT_TRUE(found) << id << " missing from:\n" << ring.out;
  }
  EXPECT_NEAR(100.0, primary_total, 0.5) << ring.out;
  EXPECT_TRUE(Contains(ring.out, "dc1")) << ring.out;
}

TEST_F(KvctlClusterTest, StatusListsEveryMemberUp) {
  for (size_t via = 0; via < 3; ++via) {
    ProgramResult status = Kvctl(via, {"status"});
    ASSERT_EQ(0, status.exit_code) << status.ToString();
    for (size_t i = 0; i < 3; ++i) {
      std::istringstream lines(status.out);
      std::string line;
      bool found = false;
      while (std::getline(lines, line)) {
        if (line.rfind(cluster_->node(i).id() + " ", 0) != 0) continue;
        found = true;
        EXPECT_TRUE(Contains(line, cluster_->node(i).address())) << line;
        EXPECT_TRUE(Contains(line, " normal ")) << line;
        EXPECT_TRUE(Contains(line, i == via ? " self " : " up ")) << line;
      }
      EXPECT_TRUE(found) << cluster_->node(i).id() << " missing from:\n" << status.out;
    }
  }
}

TEST_F(KvctlClusterTest, StatusJsonHasOneObjectPerMemberWithItsGeneration) {
  ProgramResult status = Kvctl(1, {"status", "--json"});
  ASSERT_EQ(0, status.exit_code) << status.ToString();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(Contains(status.out, "\"id\": \"" + cluster_->node(i).id() + "\"")) << status.out;
  }
  EXPECT_TRUE(Contains(status.out, "\"state\": \"self\"")) << status.out;
  auto generation = cluster_->node(0).Generation();  // its start's wall clock in ms (docs/formats/node_state.md)
  ASSERT_TRUE(generation.ok()) << generation.status().ToString();
  EXPECT_TRUE(Contains(status.out, "\"generation\": " + std::to_string(*generation))) << status.out;
  EXPECT_TRUE(Contains(status.out, "\"suspected_by\": []")) << status.out;
}

TEST_F(KvctlClusterTest, GetShowsSiblingsAndPutWithTheirContextResolvesThem) {
  MakeSiblings("kvctl-siblings");
  ProgramResult get = Kvctl(2, {"get", "kvctl-siblings"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "2 siblings")) << get.out;
  EXPECT_TRUE(Contains(get.out, "left\n")) << get.out;
  EXPECT_TRUE(Contains(get.out, "right\n")) << get.out;
  const size_t at = get.out.find("context: ");
  ASSERT_NE(std::string::npos, at) << get.out;
  std::string context = get.out.substr(at + 9);
  context = context.substr(0, context.find('\n'));
  ASSERT_FALSE(context.empty());

  ProgramResult put = Kvctl(0, {"put", "--context", context, "kvctl-siblings", "merged"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  for (size_t via = 0; via < 3; ++via) {
    ProgramResult after = Kvctl(via, {"--r", "ALL", "get", "kvctl-siblings"});
    ASSERT_EQ(0, after.exit_code) << after.ToString();
    EXPECT_EQ("merged\n", after.out) << "via " << cluster_->node(via).id();
  }
}

TEST_F(KvctlClusterTest, GetJsonHasValuesClocksAndContextAndParses) {
  MakeSiblings("kvctl-json");
  ProgramResult get = Kvctl(1, {"get", "--json", "kvctl-json"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  Json j;
  ASSERT_TRUE(JsonReader(get.out).Parse(&j)) << "not JSON: " << get.out;
  const Json* values = j.Field("values");
  const Json* clocks = j.Field("clocks");
  const Json* context = j.Field("context");
  ASSERT_NE(nullptr, values) << get.out;
  ASSERT_NE(nullptr, clocks) << get.out;
  ASSERT_NE(nullptr, context) << get.out;
  ASSERT_EQ(Json::Type::kArray, values->type);
  std::vector<std::string> got;
  for (const auto& v : values->items) got.push_back(v.str);
  std::sort(got.begin(), got.end());
  EXPECT_EQ((std::vector<std::string>{"left", "right"}), got);
  // One clock per value, each with a dot; the two are concurrent (neither's
  // context covers the other's dot).
  ASSERT_EQ(2u, clocks->items.size()) << get.out;
  std::vector<repl::Dot> dots;
  std::vector<const Json*> contexts;
  for (const auto& c : clocks->items) {
    const Json* dot = c.Field("dot");
    ASSERT_NE(nullptr, dot) << get.out;
    auto parsed = repl::ParseDotText(dot->str);
    ASSERT_TRUE(parsed.ok()) << dot->str;
    dots.push_back(parsed.value());
    ASSERT_NE(nullptr, c.Field("context")) << get.out;
    contexts.push_back(c.Field("context"));
  }
  for (size_t a = 0; a < 2; ++a) {
    const Json* other_counter = contexts[a]->Field(dots[1 - a].node);
    EXPECT_TRUE(other_counter == nullptr || other_counter->number < static_cast<double>(dots[1 - a].counter))
        << "sibling " << a << " claims to have seen the other: " << get.out;
  }
  // The context is the one get prints in text form and resolves the siblings.
  ASSERT_EQ(Json::Type::kString, context->type);
  std::string decoded;
  EXPECT_TRUE(cmd::Base64Decode(context->str, &decoded)) << context->str;
  ProgramResult put = Kvctl(2, {"put", "--context", context->str, "kvctl-json", "one"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult after = Kvctl(0, {"get", "--json", "--base64", "kvctl-json"});
  ASSERT_EQ(0, after.exit_code) << after.ToString();
  Json k;
  ASSERT_TRUE(JsonReader(after.out).Parse(&k)) << after.out;
  ASSERT_EQ(1u, k.Field("values")->items.size()) << after.out;
  EXPECT_EQ(cmd::Base64Encode("one"), k.Field("values")->items[0].str);
}

TEST_F(KvctlClusterTest, GetJsonOfAMissingKeyIsEmptyAndExitsOne) {
  ProgramResult get = Kvctl(0, {"get", "--json", "kvctl-never"});
  EXPECT_EQ(1, get.exit_code) << get.ToString();
  Json j;
  ASSERT_TRUE(JsonReader(get.out).Parse(&j)) << get.out;
  ASSERT_NE(nullptr, j.Field("values"));
  EXPECT_TRUE(j.Field("values")->items.empty());
}

TEST_F(KvctlClusterTest, LocalGetReadsOnlyThatNodesStore) {
  ASSERT_EQ(0, Kvctl(0, {"--w", "ALL", "put", "kvctl-local", "here"}).exit_code);
  for (size_t via = 0; via < 3; ++via) {
    ProgramResult local = Kvctl(via, {"get", "--local", "kvctl-local"});
    EXPECT_EQ(0, local.exit_code) << local.ToString();
    EXPECT_EQ("here\n", local.out);
  }
  // A key no replica holds: --local says not found, exit 1.
  EXPECT_EQ(1, Kvctl(2, {"get", "--local", "kvctl-nobody"}).exit_code);
}

TEST_F(KvctlClusterTest, PerRequestConsistencyBeyondTheReplicasExitsTwo) {
  ProgramResult put = Kvctl(0, {"--w", "4", "put", "kvctl-w4", "v"});
  EXPECT_EQ(2, put.exit_code) << put.ToString();
  EXPECT_TRUE(Contains(put.err, "w=4 needs 4 replicas but the key has 3")) << put.ToString();
  ProgramResult get = Kvctl(0, {"--r", "4", "get", "kvctl-w4"});
  EXPECT_EQ(2, get.exit_code) << get.ToString();
  EXPECT_TRUE(Contains(get.err, "r=4")) << get.ToString();
  ProgramResult ok = Kvctl(1, {"--w", "ALL", "-v", "put", "kvctl-w4", "v"});
  ASSERT_EQ(0, ok.exit_code) << ok.ToString();
  EXPECT_TRUE(Contains(ok.out, "acknowledged by 3 replica(s)")) << ok.out;
}

}  // namespace
}  // namespace kvring::test
