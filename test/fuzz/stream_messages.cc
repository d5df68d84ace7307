// test/fuzz/stream_messages.cc — libFuzzer target: range streaming and the
// membership operations (repl/stream_messages.h: STREAM_READ and its reply,
// MEMBERSHIP_CHANGE, membership_progress; docs/protocol.md 9.3) and the
// DATA/membership_op file a restarted node resumes from (repl/membership_ops.h,
// docs/formats/membership_op.md). The first input byte picks the codec, the rest
// is the bytes.
// Invariant: whatever decodes re-encodes to bytes that decode equal and are a
// fixed point of encode . decode; a refusal names what failed.
#include <string>

#include "repl/membership_ops.h"
#include "repl/stream_messages.h"
#include "test/fuzz/round_trip.h"

namespace kvring::fuzz {
namespace {

using base::Status;

template <typename M, typename Decode, typename Encode>
void Check(std::string_view body, Decode decode, Encode encode) {
  CheckStatusRoundTrip<M>(body, decode, encode);
}

struct Change {
  repl::OperationKind kind = repl::OperationKind::kNone;
  std::string target;
  friend bool operator==(const Change&, const Change&) = default;
};

void Fuzz(uint8_t selector, std::string_view body) {
  switch (selector % 5) {
    case 0: Check<repl::StreamReadRequest>(body, repl::DecodeStreamRead, repl::EncodeStreamRead); break;
    case 1: Check<repl::StreamBatch>(body, repl::DecodeStreamBatch, repl::EncodeStreamBatch); break;
    case 2:
      Check<Change>(
          body, [](std::string_view b, Change* m) { return repl::DecodeMembershipChange(b, &m->kind, &m->target); },
          [](std::string* out, const Change& m) { repl::EncodeMembershipChange(out, m.kind, m.target); });
      break;
    case 3:
      Check<repl::MembershipProgress>(body, repl::DecodeMembershipProgress, repl::EncodeMembershipProgress);
      break;
    default:
      Check<repl::PersistedOperation>(
          body,
          [](std::string_view b, repl::PersistedOperation* m) {
            auto op = repl::DecodeMembershipOpFile(b);
            if (op.ok()) *m = std::move(op).value();
            return op.status();
          },
          [](std::string* out, const repl::PersistedOperation& m) { repl::EncodeMembershipOpFile(m, out); });
  }
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
