// test/fuzz/frame.cc — libFuzzer target: net::ParseFrame (docs/protocol.md,
// section 3) over a stream of frames, as a connection's read buffer feeds it.
// Invariants: a frame never claims bytes past the input or over the limit; a
// parsed frame re-encodes to exactly the bytes it consumed; a prefix of a frame
// asks for more and never errors; a reply body's status splits cleanly.
#include <string>

#include "net/protocol.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

constexpr uint32_t kMaxFrameBytes = 1 << 16;

void CheckFrame(const char* data, size_t consumed, const net::Frame& frame) {
  FUZZ_CHECK(consumed >= net::kFrameHeaderBytes && consumed <= kMaxFrameBytes + 4);
  std::string again;
  net::AppendFrame(&again, frame.opcode, frame.flags, frame.request_id, frame.body);
  FUZZ_CHECK(again == std::string_view(data, consumed));
  CheckPrefixesNeedMore(data, consumed, [](const char* p, size_t n) {
    net::Frame partial;
    size_t used = 0;
    base::Status error;
    return net::ParseFrame(p, n, kMaxFrameBytes, &partial, &used, &error) == net::ParseResult::kNeedMore;
  });
  base::Status status;
  std::string_view payload;
  if (frame.is_reply() && net::ParseReplyStatus(frame.body, &status, &payload).ok()) {
    FUZZ_CHECK(payload.size() <= frame.body.size());
  }
}

}  // namespace
}  // namespace kvring::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  fuzz::ForEachUnit(data, size, [](const char* p, size_t n) -> size_t {
    net::Frame frame;
    size_t consumed = 0;
    base::Status error;
    net::ParseResult r = net::ParseFrame(p, n, fuzz::kMaxFrameBytes, &frame, &consumed, &error);
    if (r == net::ParseResult::kError) FUZZ_CHECK(!error.ok() && !error.message().empty());
    if (r != net::ParseResult::kFrame) return 0;
    fuzz::CheckFrame(p, consumed, frame);
    return consumed;
  });
  return 0;
}
