#include "repl/version_text.h"

#include <gtest/gtest.h>

#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::D;
using testing::VV;

const Sibling kExample{.dot = Dot{"n1", 3}, .context = VersionVector{{"n1", 2}, {"n2", 5}},
                       .timestamp_micros = 1'700'000'000'123'456ull, .value = "v"};

TEST(VersionText, SiblingClockHasAShortTextForm) {
  EXPECT_EQ("n1:3", DotText(kExample.dot));
  EXPECT_EQ("[n1:2 n2:5]", VersionVectorText(kExample.context));
  EXPECT_EQ("n1:3 [n1:2 n2:5]", SiblingClockText(kExample));
  EXPECT_EQ("[]", VersionVectorText(VersionVector()));
}

TEST(VersionText, SiblingClockHasAJsonForm) {
  EXPECT_EQ(R"({"n1":2,"n2":5})", VersionVectorJson(kExample.context));
  EXPECT_EQ(R"({"dot":"n1:3","context":{"n1":2,"n2":5},"timestamp_us":1700000000123456})",
            SiblingClockJson(kExample));
  EXPECT_EQ("{}", VersionVectorJson(VersionVector()));
}

TEST(VersionText, JsonEscapesNodeIdsThatNeedIt) {
  VersionVector vv;
  vv.Witness("a\"b\\c\n", 1, 0);
  EXPECT_EQ(R"({"a\"b\\c\u000a":1})", VersionVectorJson(vv));
}

TEST(VersionText, TextFormsParseBack) {
  EXPECT_EQ(kExample.context, VV(VersionVectorText(kExample.context)));
  EXPECT_EQ(kExample.dot, D(DotText(kExample.dot)));
  EXPECT_EQ(Dot({"host:7000", 12}), D("host:7000:12"));  // the counter follows the last ':'
  EXPECT_TRUE(VV("[]").empty());
  EXPECT_EQ("[a:1 b:2]", VersionVectorText(VV("[b:2 a:1]")));  // sorted on the way in
}

TEST(VersionText, MalformedTextIsRejected) {
  for (const char* bad : {"n1", "n1:", ":3", "n1:0", "n1:x", "n1:-1", "n1:99999999999999999999", "n[1:2"}) {
    base::Result<Dot> dot = ParseDotText(bad);
    EXPECT_TRUE(dot.status().IsInvalidArgument()) << bad;
  }
  for (const char* bad : {"", "[", "n1:2", "[n1:2", "[n1:2 n1:3]", "[n1]", "[n1:0]"}) {
    base::Result<VersionVector> vv = ParseVersionVectorText(bad);
    EXPECT_TRUE(vv.status().IsInvalidArgument()) << bad;
  }
}

}  // namespace
}  // namespace kvring::repl
