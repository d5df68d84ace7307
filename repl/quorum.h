// repl/quorum.h — what one request's consistency level asks for, over the
// replicas of its key, and whether the replies so far meet it:
//
//   a number 1..250   that many replicas, wherever they are
//   ONE               1
//   QUORUM            floor(max(n, spec N) / 2) + 1 of the replicas
//   ALL               max(n, spec N)
//   LOCAL_ONE         1 replica in the coordinator's datacenter
//   LOCAL_QUORUM      floor(n_dc / 2) + 1 of the replicas in the coordinator's datacenter
//   EACH_QUORUM       floor(n_dc / 2) + 1 in every datacenter holding replicas of the key
//
// (n: the key's replicas; n_dc: those in one datacenter.) A stand-in's ack counts
// for the datacenter of the owner it stands in for (stand-ins come from that
// datacenter when it has a node to spare: repl/sloppy_quorum.h).
// Fixed capacity, no allocation: one per request.
// Thread safety: a value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "ring/preference_list.h"

namespace kvring::repl {

class QuorumCounter {
 public:
  // The quorum `level` (default_level when 0) asks for over `replicas`, under a
  // spec of spec_n replicas, for a coordinator in `local_dc`. InvalidArgument
  // naming `what` ("r", "w") when it asks for more than exist, or for a local
  // quorum in a datacenter without replicas of the key; Unavailable when the key
  // has no replica at all.
  [[nodiscard]] static base::Result<QuorumCounter> For(uint8_t level, uint8_t default_level,
                                                       const ring::PreferenceList& replicas, size_t spec_n,
                                                       std::string_view local_dc, const char* what);
  QuorumCounter() = default;

  // One reply or ack from a replica in `dc`.
  void Count(std::string_view dc);
  bool Met() const;
  // Replies counted towards this level, named `noun`: "2 of 3 write acks",
  // "write acks 1 of 2 in dc1", "write acks 2 of 2 in dc1, 0 of 2 in dc2".
  std::string Progress(std::string_view noun) const;
  // Replies it needs in all (the sum over the datacenters it counts in).
  size_t needed() const;

 private:
  enum class Scope : uint8_t { kAny, kLocal, kEach };
  struct Dc {
    std::string_view name;  // points into the ring the request holds
    size_t need = 0, got = 0;
  };
  Dc* Find(std::string_view dc);

  Scope scope_ = Scope::kAny;
  size_t need_ = 0, got_ = 0;  // kAny
  std::array<Dc, ring::kMaxReplicas> dcs_{};  // kLocal: one; kEach: every dc of the replicas
  size_t dc_count_ = 0;
};

}  // namespace kvring::repl
