// test/fuzz/aae_messages.cc — libFuzzer target: the anti-entropy and repair
// message codecs of repl/aae_messages.h (AAE_RANGE_HASHES and its reply,
// AAE_LEAF_HASHES request and reply, AAE_KEY_DIGESTS reply, AAE_SYNC and its
// reply, REPAIR_START, REPAIR_STATUS's progress; docs/protocol.md 9.2). The first
// input byte picks the codec (and, for the replies that answer a request, the
// request's entry count), the rest is the body.
// Invariant: whatever decodes re-encodes to bytes that decode equal and are a
// fixed point of encode . decode; a refusal names what failed.
#include <optional>
#include <string>
#include <vector>

#include "repl/aae_messages.h"
#include "test/fuzz/round_trip.h"

namespace kvring::fuzz {
namespace {

using base::Status;

template <typename M, typename Decode, typename Encode>
void Check(std::string_view body, Decode decode, Encode encode) {
  CheckStatusRoundTrip<M>(body, decode, encode);
}

using Sets = std::vector<std::optional<repl::SiblingSet>>;

void Fuzz(uint8_t selector, std::string_view body) {
  const size_t count = selector / 16;  // a reply's request entry count, 0..15
  switch (selector % 9) {
    case 0: Check<std::vector<repl::RangeHashEntry>>(body, repl::DecodeRangeHashes, repl::EncodeRangeHashes); break;
    case 1:
      Check<std::vector<uint32_t>>(
          body, [count](std::string_view b, std::vector<uint32_t>* m) { return repl::DecodeDifferingRanges(b, count, m); },
          repl::EncodeDifferingRanges);
      break;
    case 2:
      Check<repl::PrefixInterval>(
          body, [](std::string_view b, repl::PrefixInterval* m) { return repl::DecodeInterval(b, "fuzz", m); },
          [](std::string* out, const repl::PrefixInterval& m) { repl::EncodeInterval(out, m); });
      break;
    case 3: Check<std::vector<repl::LeafHash>>(body, repl::DecodeLeafHashes, repl::EncodeLeafHashes); break;
    case 4: Check<std::vector<repl::KeyDigestEntry>>(body, repl::DecodeKeyDigests, repl::EncodeKeyDigests); break;
    case 5: {
      auto encode = [](std::string* out, const std::vector<repl::SyncEntry>& m) { repl::EncodeSync(out, m); };
      CheckRoundTrip<std::vector<repl::SyncEntry>>(
          body, [](std::string_view b, std::vector<repl::SyncEntry>* m) { return repl::DecodeSync(b, m).ok(); }, encode);
      break;
    }
    case 6:
      CheckRoundTrip<Sets>(
          body, [count](std::string_view b, Sets* m) { return repl::DecodeSyncReply(b, count, m).ok(); },
          [](std::string* out, const Sets& m) { repl::EncodeSyncReply(out, m); });
      break;
    case 7: Check<repl::RepairRequest>(body, repl::DecodeRepairRequest, repl::EncodeRepairRequest); break;
    default: Check<repl::RepairProgress>(body, repl::DecodeRepairProgress, repl::EncodeRepairProgress); break;
  }
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
