// repl/client_context.h — the opaque context a get hands to clients and a put or
// delete hands back: the key's causal history (a VersionVector) as bytes.
// Format (docs/formats/value.md, "client context"):
//   context := version:u8 vector crc:fixed32
// where crc is the masked CRC-32C of the version byte and the vector. The checksum
// matters: a damaged context that still parsed could name writes the client never
// saw, and a put with it would silently resolve them.
// On-wire values: never renumber kClientContextVersion.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/version_vector.h"

namespace kvring::repl {

constexpr uint8_t kClientContextVersion = 1;

// Appends the context bytes for `history` (entry times included, so pruning ages
// survive the round trip through a client). Never empty, even for an empty
// history: an empty byte string means "no context" (a blind put).
void EncodeClientContext(const VersionVector& history, std::string* dst);
std::string EncodeClientContext(const VersionVector& history);

// Parses context bytes from a client. InvalidArgument, naming what is wrong, on
// empty, truncated, damaged (checksum), unknown-version or malformed input.
// The caller handles an absent context (blind put) before calling this.
[[nodiscard]] base::Result<VersionVector> DecodeClientContext(std::string_view bytes);

}  // namespace kvring::repl
