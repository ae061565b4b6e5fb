#pragma once
// Seeded random numbers that are identical on every run and platform: our own generator
// (splitmix64 seeding a xoshiro256**) instead of <random>'s distributions, whose output
// differs between standard libraries.
#include <cstdint>

#include "tensor/tensor.h"

namespace ls {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  double uniform();  // [0, 1)
  float uniform(float lo, float hi);
  float normal(float mean = 0.0f, float stddev = 1.0f);  // Box–Muller
  int64_t below(int64_t n);                              // integer in [0, n)

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// One step of splitmix64: advances `state` and returns 64 well-mixed bits. Rng seeds itself
// from it, and the data generators draw from it directly.
uint64_t splitmix64(uint64_t& state);

// 2^64 / φ: splitmix64's increment, an odd constant whose multiples spread over 64 bits.
constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// A way to derive seeds from one base seed. Code that draws random numbers from a base seed
// defines its own stream (a rule and a constant) next to where it draws, so that no two users
// of one base seed draw the same numbers; a stream's rule and constant stay fixed once saved
// results depend on them, as a different seed means different results.
struct SeedStream {
  enum class Rule {
    Stride,  // base + constant · (index + 1)
    Salt,    // base ^ constant · (index + 1)
    Mix,     // (base + constant) · kGoldenGamma ^ (index + 0x632be59bd9b4e019): far apart
             // for nearby bases and indices
  };
  Rule rule;
  uint64_t constant;
};

// The seed of `stream` for `index` (a position counted from 0; a stream with one seed per base
// uses index 0).
uint64_t derive_seed(uint64_t base, const SeedStream& stream, uint64_t index = 0);

Tensor rand_uniform(const Shape& shape, float lo, float hi, Rng& rng);
Tensor rand_normal(const Shape& shape, float mean, float stddev, Rng& rng);
// PyTorch's kaiming_uniform_ (leaky_relu gain with slope a, fan_in mode):
// bound = sqrt(6 / ((1 + a²) · fan_in)).
Tensor kaiming_uniform(const Shape& shape, int64_t fan_in, float a, Rng& rng);

}  // namespace ls
