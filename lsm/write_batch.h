// lsm/write_batch.h — an atomic group of puts and deletes. Applied all or nothing:
// one WAL record, consecutive sequence numbers.
//
//   rep := sequence:fixed64 count:fixed32 record*
//   record := kValue:u8 key:lp value:lp | kDeletion:u8 key:lp     (lp = varint32 length + bytes)
//
// The rep is also the WAL record payload (docs/formats/wal.md).
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

class WriteBatch {
 public:
  static constexpr size_t kHeaderBytes = 12;

  WriteBatch() { Clear(); }

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  void Clear();
  // Appends every record of other (sequence of *this is kept).
  void Append(const WriteBatch& other);

  uint32_t Count() const;
  // Bytes of the encoded batch (what the WAL record will carry).
  size_t ApproximateSize() const { return rep_.size(); }

  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void Put(std::string_view key, std::string_view value) = 0;
    virtual void Delete(std::string_view key) = 0;
  };
  // Calls the handler per record in order; Corruption when the rep is malformed.
  base::Status Iterate(Handler* handler) const;

  // Engine-internal: the encoded form and the first sequence number.
  SequenceNumber sequence() const;
  void set_sequence(SequenceNumber seq);
  const std::string& rep() const { return rep_; }
  // Replaces the contents with an encoded rep read back from the WAL.
  // Corruption when it is shorter than the header.
  base::Status SetRep(std::string_view rep);

  // Engine-internal helpers over an encoded rep (a WAL record payload, possibly
  // several writers' batches merged under one header).
  static SequenceNumber SequenceOf(std::string_view rep);  // REQUIRES: rep.size() >= kHeaderBytes
  static uint32_t CountOf(std::string_view rep);           // REQUIRES: rep.size() >= kHeaderBytes
  static void SetSequenceOf(std::string* rep, SequenceNumber seq);
  static void SetCountOf(std::string* rep, uint32_t count);
  // Walks the ops of rep; Corruption (naming what is wrong) on a malformed rep or
  // a count that does not match the ops. handler may be null (validation only).
  [[nodiscard]] static base::Status IterateRep(std::string_view rep, Handler* handler);

 private:
  std::string rep_;
};

}  // namespace kvring::lsm
