// cmd/kvbench/zipfian.h — zipfian ranks over [0, n): rank r is drawn with
// probability (r+1)^-theta / zeta(n, theta), rank 0 the most popular.
// Exact, by rejection-inversion (Hörmann and Derflinger, "Rejection-inversion to
// generate variates from monotone discrete distributions", 1996): O(1) per draw,
// no table, any n. (YCSB uses Gray et al.'s approximation, which over-weights the
// head a little: with n = 1000 and theta 0.99 its top 1% gets ~39.8% of draws
// instead of 38.3%.)
// Thread safety: immutable after construction; Next() may be called from any
// thread with that thread's own Random.
#pragma once

#include <cstdint>

#include "base/random.h"

namespace kvring::cmd::kvbench {

class ZipfianGenerator {
 public:
  static constexpr double kDefaultTheta = 0.99;  // YCSB's zipfian constant

  // REQUIRES: n >= 1, theta > 0.
  ZipfianGenerator(uint64_t n, double theta);

  // A rank in [0, n).
  uint64_t Next(base::Random* rng) const;

  uint64_t n() const { return n_; }
  double theta() const { return theta_; }

  // sum_{i=1..n} 1/i^theta: the normalizing constant (exact sum up to 10^6
  // terms, Euler-Maclaurin beyond). Used to state expected shares.
  static double Zeta(uint64_t n, double theta);

 private:
  double H(double x) const;         // integral of t^-theta from 1 to x
  double HInverse(double y) const;  // x with H(x) = y
  double Weight(double x) const;    // x^-theta

  uint64_t n_;
  double theta_;
  double h_low_;   // H(1.5) - 1: the bottom of the sampled area (rank 0 owns a width of 1)
  double h_high_;  // H(n + 0.5): its top
  double squeeze_; // draws landing this close below their integer are accepted at once
};

}  // namespace kvring::cmd::kvbench
