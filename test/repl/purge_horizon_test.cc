// Tests of repl::IsAllTombstones, the engine's tombstone classifier
// (repl/purge_horizon.h): a walk over the encoding that must agree with a full
// decode on every well-formed set and never accept a damaged or truncated one
// that it cannot walk.
#include "repl/purge_horizon.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "repl/value_format.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::BlindPut;
using testing::kT0;

SiblingSet Deleted(const std::string& node) {
  SiblingSet s;
  BlindPut(&s, node, "v-" + node);
  EXPECT_TRUE(s.Delete(node, s.history(), kT0, {}).ok());
  return s;
}

std::vector<SiblingSet> Sets() {
  SiblingSet live;
  BlindPut(&live, "n1", "red");
  SiblingSet concurrent;
  BlindPut(&concurrent, "n2", "green");
  SiblingSet deleted_twice = SiblingSet::Merge(Deleted("n1"), Deleted("n2"));  // two tombstone siblings
  return {SiblingSet(), live, Deleted("n1"), deleted_twice, SiblingSet::Merge(Deleted("n1"), concurrent),
          SiblingSet::Merge(live, concurrent)};
}

TEST(IsAllTombstones, AgreesWithAFullDecodeOnEverySet) {
  int tombstone_sets = 0;
  for (const SiblingSet& set : Sets()) {
    const std::string bytes = EncodeSiblingSet(set);
    base::Result<SiblingSet> decoded = DecodeSiblingSet(bytes);
    ASSERT_TRUE(decoded.ok());
    const bool expected = !decoded->siblings().empty() && decoded->IsDeleted();
    EXPECT_EQ(expected, IsAllTombstones(bytes)) << set.siblings().size() << " siblings";
    tombstone_sets += expected ? 1 : 0;
  }
  EXPECT_EQ(2, tombstone_sets);  // the test covers both answers
}

TEST(IsAllTombstones, RefusesEveryTruncationAndTrailingBytesOfATombstoneSet) {
  const std::string bytes = EncodeSiblingSet(SiblingSet::Merge(Deleted("n1"), Deleted("n2")));
  ASSERT_TRUE(IsAllTombstones(bytes));
  for (size_t n = 0; n < bytes.size(); n++) EXPECT_FALSE(IsAllTombstones(bytes.substr(0, n))) << n << " bytes";
  EXPECT_FALSE(IsAllTombstones(bytes + "x"));
  EXPECT_FALSE(IsAllTombstones("not a set"));
}

}  // namespace
}  // namespace kvring::repl
