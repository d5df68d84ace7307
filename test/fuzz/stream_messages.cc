// test/fuzz/stream_messages.cc — libFuzzer target: range streaming and the
// membership operations (repl/stream_messages.h: STREAM_READ and its reply,
// MEMBERSHIP_CHANGE, membership_progress; docs/protocol.md 9.3) and the
// DATA/membership_op file a restarted node resumes from (repl/membership_ops.h,
// docs/formats/membership_op.md): as on disk (selector 4), or a body sealed
// with a good checksum first (selector 5: a fuzzer cannot forge the checksum,
// so only this way does it reach the body's decoder). The first input byte
// picks the codec, the rest is the bytes.
// Invariants: whatever decodes re-encodes to bytes that decode equal and are a
// fixed point of encode . decode; a refusal names what failed; a decoded
// request asks for at least one byte, a batch has no empty key, a change is one
// a message may ask for.
#include <string>

#include "base/sealed_file.h"
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

Status DecodeRead(std::string_view b, repl::StreamReadRequest* m) {
  Status s = repl::DecodeStreamRead(b, m);
  if (s.ok()) FUZZ_CHECK(m->max_bytes > 0);
  return s;
}

Status DecodeBatch(std::string_view b, repl::StreamBatch* m) {
  Status s = repl::DecodeStreamBatch(b, m);
  if (s.ok()) {
    for (const repl::StreamEntry& e : m->entries) FUZZ_CHECK(!e.key.empty());
  }
  return s;
}

Status DecodeChange(std::string_view b, Change* m) {
  Status s = repl::DecodeMembershipChange(b, &m->kind, &m->target);
  if (s.ok()) {
    FUZZ_CHECK(m->kind != repl::OperationKind::kNone && m->kind != repl::OperationKind::kReplace);
    FUZZ_CHECK(m->kind != repl::OperationKind::kRemoveNode || !m->target.empty());
  }
  return s;
}

Status DecodeOpFile(std::string_view b, repl::PersistedOperation* m) {
  auto op = repl::DecodeMembershipOpFile(b);
  if (op.ok()) *m = std::move(op).value();
  return op.status();
}

void EncodeOpFile(std::string* out, const repl::PersistedOperation& m) { repl::EncodeMembershipOpFile(m, out); }

void Fuzz(uint8_t selector, std::string_view body) {
  switch (selector % 6) {
    case 0: Check<repl::StreamReadRequest>(body, DecodeRead, repl::EncodeStreamRead); break;
    case 1: Check<repl::StreamBatch>(body, DecodeBatch, repl::EncodeStreamBatch); break;
    case 2:
      Check<Change>(body, DecodeChange,
                    [](std::string* out, const Change& m) { repl::EncodeMembershipChange(out, m.kind, m.target); });
      break;
    case 3:
      Check<repl::MembershipProgress>(body, repl::DecodeMembershipProgress, repl::EncodeMembershipProgress);
      break;
    case 4: Check<repl::PersistedOperation>(body, DecodeOpFile, EncodeOpFile); break;
    default: {
      std::string sealed;
      base::SealFile("KVOP", repl::kMembershipOpFileVersion, body, &sealed);
      Check<repl::PersistedOperation>(sealed, DecodeOpFile, EncodeOpFile);
    }
  }
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
