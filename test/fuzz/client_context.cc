// test/fuzz/client_context.cc — libFuzzer target: the client context decoder
// (repl/client_context.h) and the version vector inside it
// (repl/version_vector.h). The first input byte picks the decoder:
//   even: a bare vector (VersionVector::DecodeFrom);
//   odd:  a context sealed for key "k" under the default key, then, since a
//         fuzzer cannot forge the MAC, the same vector resealed and decoded.
// Invariants: an accepted vector keeps its invariant (sorted unique non-empty
// ids, counters >= 1) and round-trips exactly; a sealed context of it decodes to
// it for its key and is refused for any other key.
#include <string>

#include "repl/client_context.h"
#include "test/fuzz/fuzz_check.h"

namespace kvring::fuzz {
namespace {

using repl::VersionVector;

void CheckVectorInvariant(const VersionVector& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    const auto& e = v.entries()[i];
    FUZZ_CHECK(!e.node.empty() && e.counter >= 1);
    if (i > 0) FUZZ_CHECK(v.entries()[i - 1].node < e.node);
  }
}

void CheckSealed(const VersionVector& v) {
  const auto& key = repl::ContextKey::Default();
  std::string context = repl::EncodeClientContext(key, "k", v);
  auto back = repl::DecodeClientContext(key, "k", context);
  if (context.size() > repl::kMaxClientContextBytes) {
    FUZZ_CHECK(!back.ok());
    return;
  }
  FUZZ_CHECK(back.ok() && *back == v);
  FUZZ_CHECK(!repl::DecodeClientContext(key, "k2", context).ok());
}

void Vector(std::string_view input, bool seal) {
  VersionVector v;
  std::string_view rest = input;
  if (!v.DecodeFrom(&rest).ok()) {
    FUZZ_CHECK(v.empty());  // unchanged on error
    return;
  }
  FUZZ_CHECK(rest.size() <= input.size());
  CheckVectorInvariant(v);
  std::string bytes;
  v.EncodeTo(&bytes);
  VersionVector again;
  std::string_view view = bytes;
  FUZZ_CHECK(again.DecodeFrom(&view).ok() && view.empty() && again == v);
  if (seal) CheckSealed(v);
}

void Context(std::string_view input) {
  auto decoded = repl::DecodeClientContext(repl::ContextKey::Default(), "k", input);
  if (decoded.ok()) CheckVectorInvariant(*decoded);
  else FUZZ_CHECK(!decoded.status().message().empty());
}

void Fuzz(uint8_t selector, std::string_view input) {
  if (selector % 2 == 1) Context(input);
  Vector(input, selector % 2 == 1);
}

}  // namespace
}  // namespace kvring::fuzz

KV_FUZZ_TARGET_WITH_SELECTOR(kvring::fuzz::Fuzz)
