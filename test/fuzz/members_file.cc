// test/fuzz/members_file.cc — libFuzzer target: DATA/members
// (repl/member_state.h, docs/formats/members.md) as a node reads it at start,
// through LoadMembersFile (the binary format and the older text format) on an
// in-memory Env.
// Invariants: a file accepted in the binary format re-encodes to states that
// decode equal; whatever is refused is refused with a message; nothing crashes.
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "repl/member_state.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kvring;
  std::string_view bytes = fuzz::Bytes(data, size);
  auto decoded = repl::DecodeMembersFile(bytes);
  if (decoded.ok()) {
    std::string again;
    repl::EncodeMembersFile(*decoded, &again);
    auto back = repl::DecodeMembersFile(again);
    FUZZ_CHECK(back.ok() && *back == *decoded);
  } else {
    FUZZ_CHECK(!decoded.status().message().empty());
  }
  base::FaultEnv env;
  FUZZ_CHECK(env.CreateDir("/d").ok());
  FUZZ_CHECK(base::WriteStringToFileAtomic(&env, bytes, "/d/members").ok());
  auto loaded = repl::LoadMembersFile(&env, "/d/members");
  if (!loaded.ok()) FUZZ_CHECK(!loaded.status().message().empty());
  return 0;
}
