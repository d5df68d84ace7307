#include "cmd/kvbench/key_chooser.h"

#include <numeric>

namespace kvring::cmd::kvbench {

bool ParseDistribution(std::string_view text, Distribution* out) {
  if (text == "uniform") *out = Distribution::kUniform;
  else if (text == "zipfian") *out = Distribution::kZipfian;
  else if (text == "latest") *out = Distribution::kLatest;
  else return false;
  return true;
}

const char* DistributionName(Distribution d) {
  switch (d) {
    case Distribution::kUniform: return "uniform";
    case Distribution::kZipfian: return "zipfian";
    case Distribution::kLatest: return "latest";
  }
  return "?";
}

KeyScrambler::KeyScrambler(uint64_t n) : n_(n) {
  // Odd 64-bit constants (golden ratio, a splitmix constant) reduced mod n, then
  // stepped until coprime with n so the map is a bijection.
  multiplier_ = n <= 1 ? 0 : 0x9e3779b97f4a7c15ull % n;
  while (n > 1 && (multiplier_ == 0 || std::gcd(multiplier_, n) != 1)) multiplier_ = (multiplier_ + 1) % n;
  offset_ = n <= 1 ? 0 : 0xbf58476d1ce4e5b9ull % n;
}

namespace {

class UniformChooser final : public KeyChooser {
 public:
  explicit UniformChooser(uint64_t keys) : KeyChooser(keys) {}
  uint64_t NextRead(base::Random* rng) override { return rng->Uniform(keys_); }
  uint64_t NextWrite(base::Random* rng) override { return rng->Uniform(keys_); }
};

class ZipfianChooser final : public KeyChooser {
 public:
  ZipfianChooser(uint64_t keys, double theta) : KeyChooser(keys), zipf_(keys, theta), scramble_(keys) {}
  uint64_t NextRead(base::Random* rng) override { return scramble_.Map(zipf_.Next(rng)); }
  uint64_t NextWrite(base::Random* rng) override { return scramble_.Map(zipf_.Next(rng)); }

 private:
  const ZipfianGenerator zipf_;
  const KeyScrambler scramble_;
};

class LatestChooser final : public KeyChooser {
 public:
  // The preload writes keys 0..keys-1 in order, so the last written is keys-1.
  LatestChooser(uint64_t keys, double theta) : KeyChooser(keys), zipf_(keys, theta), cursor_(keys - 1) {}
  uint64_t NextRead(base::Random* rng) override {
    const uint64_t latest = cursor_.load(std::memory_order_relaxed) % keys_;
    const uint64_t back = zipf_.Next(rng);
    return (latest + keys_ - back) % keys_;
  }
  uint64_t NextWrite(base::Random*) override {
    return (cursor_.fetch_add(1, std::memory_order_relaxed) + 1) % keys_;
  }

 private:
  const ZipfianGenerator zipf_;
  std::atomic<uint64_t> cursor_;  // count of writes issued, offset so that % keys is the last key written
};

}  // namespace

std::unique_ptr<KeyChooser> KeyChooser::Make(Distribution d, uint64_t keys, double theta) {
  switch (d) {
    case Distribution::kZipfian: return std::make_unique<ZipfianChooser>(keys, theta);
    case Distribution::kLatest: return std::make_unique<LatestChooser>(keys, theta);
    case Distribution::kUniform: break;
  }
  return std::make_unique<UniformChooser>(keys);
}

}  // namespace kvring::cmd::kvbench
