// test/fuzz/resp.cc — libFuzzer target: kvbench's incremental RESP2 reply parser
// (cmd/kvbench/resp_parser.h) over a stream of replies from a Redis server.
// Invariants: a reply never claims bytes past the input; every proper prefix of
// a parsed reply asks for more (never a different reply or an error); a bulk
// string's text lies inside the reply; errors name the problem.
#include <string>

#include "cmd/kvbench/resp_parser.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

using cmd::kvbench::ParseResp;
using cmd::kvbench::RespValue;

void CheckPrefixes(const char* data, size_t consumed) {
  CheckPrefixesNeedMore(data, consumed, [](const char* p, size_t n) {
    RespValue v;
    size_t used = 0;
    base::Status error;
    return ParseResp(p, n, &v, &used, &error) == net::ParseResult::kNeedMore;
  });
}

}  // namespace
}  // namespace kvring::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  fuzz::ForEachUnit(data, size, [](const char* p, size_t n) -> size_t {
    cmd::kvbench::RespValue value;
    size_t consumed = 0;
    base::Status error;
    net::ParseResult r = cmd::kvbench::ParseResp(p, n, &value, &consumed, &error);
    if (r == net::ParseResult::kError) FUZZ_CHECK(!error.ok() && !error.message().empty());
    if (r != net::ParseResult::kFrame) return 0;
    FUZZ_CHECK(consumed > 0);
    if (!value.text.empty()) FUZZ_CHECK(value.text.data() >= p && value.text.data() + value.text.size() <= p + consumed);
    fuzz::CheckPrefixes(p, consumed);
    return consumed;
  });
  return 0;
}
