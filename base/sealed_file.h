// base/sealed_file.h — the envelope of kvring's small state files (so far
// DATA/membership_op; DATA/members, node_state and repair predate it and seal
// themselves alike): a magic, a format version, the body, and a masked crc32c of
// everything before it.
//
//   file := magic version:u8 body crc:fixed32
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvring::base {

// Appends magic, version, body and the checksum to *dst.
void SealFile(std::string_view magic, uint8_t version, std::string_view body, std::string* dst);

// The body of a sealed file and its version. Corruption naming `what` for a short
// file, a wrong magic or a checksum mismatch; NotSupported for a version above
// max_version (written by a newer build); Corruption for version 0.
[[nodiscard]] Status OpenSealedFile(std::string_view bytes, std::string_view magic, uint8_t max_version,
                                    const std::string& what, uint8_t* version, std::string_view* body);

}  // namespace kvring::base
