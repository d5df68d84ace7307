#include "lsm/write_batch.h"

#include "base/coding.h"

namespace kvring::lsm {

void WriteBatch::Clear() {
  rep_.clear();
  rep_.resize(kHeaderBytes);
}

uint32_t WriteBatch::Count() const { return CountOf(rep_); }
SequenceNumber WriteBatch::sequence() const { return SequenceOf(rep_); }
void WriteBatch::set_sequence(SequenceNumber seq) { SetSequenceOf(&rep_, seq); }

void WriteBatch::Put(std::string_view key, std::string_view value) {
  SetCountOf(&rep_, Count() + 1);
  rep_.push_back(static_cast<char>(ValueKind::kValue));
  base::PutLengthPrefixed(&rep_, key);
  base::PutLengthPrefixed(&rep_, value);
}

void WriteBatch::Delete(std::string_view key) {
  SetCountOf(&rep_, Count() + 1);
  rep_.push_back(static_cast<char>(ValueKind::kDeletion));
  base::PutLengthPrefixed(&rep_, key);
}

void WriteBatch::Append(const WriteBatch& other) {
  SetCountOf(&rep_, Count() + other.Count());
  rep_.append(other.rep_, kHeaderBytes, std::string::npos);
}

base::Status WriteBatch::Iterate(Handler* handler) const { return IterateRep(rep_, handler); }

base::Status WriteBatch::SetRep(std::string_view rep) {
  if (rep.size() < kHeaderBytes) {
    return base::Status::Corruption("write batch of " + std::to_string(rep.size()) + " bytes is shorter than its header");
  }
  rep_.assign(rep.data(), rep.size());
  return base::Status::OK();
}

SequenceNumber WriteBatch::SequenceOf(std::string_view rep) { return base::DecodeFixed64(rep.data()); }
uint32_t WriteBatch::CountOf(std::string_view rep) { return base::DecodeFixed32(rep.data() + 8); }
void WriteBatch::SetSequenceOf(std::string* rep, SequenceNumber seq) { base::EncodeFixed64(rep->data(), seq); }
void WriteBatch::SetCountOf(std::string* rep, uint32_t count) { base::EncodeFixed32(rep->data() + 8, count); }

base::Status WriteBatch::IterateRep(std::string_view rep, Handler* handler) {
  if (rep.size() < kHeaderBytes) return base::Status::Corruption("write batch shorter than its header");
  std::string_view input = rep.substr(kHeaderBytes);
  uint32_t found = 0;
  while (!input.empty()) {
    const char tag = input[0];
    input.remove_prefix(1);
    std::string_view key, value;
    if (tag == static_cast<char>(ValueKind::kValue)) {
      if (!base::GetLengthPrefixed(&input, &key) || !base::GetLengthPrefixed(&input, &value)) {
        return base::Status::Corruption("write batch: bad put op " + std::to_string(found));
      }
      if (handler != nullptr) handler->Put(key, value);
    } else if (tag == static_cast<char>(ValueKind::kDeletion)) {
      if (!base::GetLengthPrefixed(&input, &key)) {
        return base::Status::Corruption("write batch: bad delete op " + std::to_string(found));
      }
      if (handler != nullptr) handler->Delete(key);
    } else {
      return base::Status::Corruption("write batch: unknown op kind " +
                                      std::to_string(static_cast<unsigned char>(tag)) + " in op " +
                                      std::to_string(found));
    }
    found++;
  }
  if (found != CountOf(rep)) {
    return base::Status::Corruption("write batch: header says " + std::to_string(CountOf(rep)) + " ops, found " +
                                    std::to_string(found));
  }
  return base::Status::OK();
}

}  // namespace kvring::lsm
