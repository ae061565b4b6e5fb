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
  double uniform();                            // [0, 1)
  float uniform(float lo, float hi);
  float normal(float mean = 0.0f, float stddev = 1.0f);  // Box–Muller
  int64_t below(int64_t n);                    // integer in [0, n)

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

Tensor rand_uniform(const Shape& shape, float lo, float hi, Rng& rng);
Tensor rand_normal(const Shape& shape, float mean, float stddev, Rng& rng);
// PyTorch's kaiming_uniform_ (leaky_relu gain with slope a, fan_in mode):
// bound = sqrt(6 / ((1 + a²) · fan_in)).
Tensor kaiming_uniform(const Shape& shape, int64_t fan_in, float a, Rng& rng);

}  // namespace ls
