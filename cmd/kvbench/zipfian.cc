#include "cmd/kvbench/zipfian.h"

#include <cassert>
#include <cmath>

namespace kvring::cmd::kvbench {

namespace {

constexpr uint64_t kExactZetaTerms = 1'000'000;

// expm1(t)/t and log1p(t)/t, accurate near t = 0 (theta close to 1).
double Expm1OverT(double t) {
  if (std::fabs(t) > 1e-8) return std::expm1(t) / t;
  return 1 + t * 0.5 * (1 + t / 3 * (1 + t * 0.25));
}
double Log1pOverT(double t) {
  if (std::fabs(t) > 1e-8) return std::log1p(t) / t;
  return 1 - t * (0.5 - t * (1.0 / 3 - t * 0.25));
}

}  // namespace

double ZipfianGenerator::Zeta(uint64_t n, double theta) {
  const uint64_t exact = n < kExactZetaTerms ? n : kExactZetaTerms;
  double sum = 0;
  for (uint64_t i = 1; i <= exact; ++i) sum += std::pow(static_cast<double>(i), -theta);
  if (n == exact) return sum;
  // Euler-Maclaurin for the terms exact+1..n of f(x) = x^-theta:
  // integral + (f(n) - f(m))/2 + (f'(n) - f'(m))/12, with m = exact.
  const double m = static_cast<double>(exact), x = static_cast<double>(n);
  auto f = [theta](double v) { return std::pow(v, -theta); };
  auto df = [theta](double v) { return -theta * std::pow(v, -theta - 1); };
  const double integral = theta == 1 ? std::log(x / m) : (std::pow(x, 1 - theta) - std::pow(m, 1 - theta)) / (1 - theta);
  return sum + integral + (f(x) - f(m)) / 2 + (df(x) - df(m)) / 12;
}

ZipfianGenerator::ZipfianGenerator(uint64_t n, double theta) : n_(n), theta_(theta) {
  assert(n >= 1 && theta > 0);
  h_low_ = H(1.5) - 1.0;
  h_high_ = H(static_cast<double>(n) + 0.5);
  squeeze_ = 2.0 - HInverse(H(2.5) - Weight(2.0));
}

double ZipfianGenerator::Weight(double x) const { return std::exp(-theta_ * std::log(x)); }

double ZipfianGenerator::H(double x) const {
  const double log_x = std::log(x);
  return Expm1OverT((1.0 - theta_) * log_x) * log_x;
}

double ZipfianGenerator::HInverse(double y) const {
  double t = y * (1.0 - theta_);
  if (t < -1.0) t = -1.0;  // rounding at the very bottom of the range
  return std::exp(Log1pOverT(t) * y);
}

uint64_t ZipfianGenerator::Next(base::Random* rng) const {
  // Draw x with density proportional to x^-theta over [0.5, n + 0.5] (rank 1's
  // part flattened to width 1) by inverting H, round it to the integer k, and
  // keep it when the draw fell inside k's box of height k^-theta: then every k is
  // drawn with probability proportional to k^-theta exactly.
  for (;;) {
    const double u = h_high_ + rng->NextDouble() * (h_low_ - h_high_);
    const double x = HInverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1) k = 1;
    if (k > static_cast<double>(n_)) k = static_cast<double>(n_);
    if (k - x <= squeeze_ || u >= H(k + 0.5) - Weight(k)) return static_cast<uint64_t>(k) - 1;
  }
}

}  // namespace kvring::cmd::kvbench
