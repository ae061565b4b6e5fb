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

// The random streams derived from one base seed. Each formula is the one earlier builds used,
// kept so cached study jobs and checkpoints reproduce; the streams must differ so that no two
// users of one base seed draw the same numbers.
enum class SeedStream {
  ModelDropout,     // the index-th Dropout module of a GPT2, reseeded each micro-batch
  AdapterInit,      // the A factor of an adapter's index-th layer (its Rng at creation)
  AdapterDropout,   // the dropout of an adapter's index-th layer, reseeded each micro-batch
  LayerDropout,     // a LoraLayer's dropout before its first reseed: apart from its A's draws
  AdaptersOfModel,  // the adapters' base seed in a step, apart from the model's own dropout
  Subsample,        // which examples a job's --subsample keeps, apart from training's draws
  EpochOrder,       // the batch order of epoch `index`
  StepDropout,      // all dropout of global micro-batch `index` (the base of the two above)
  MergeModule,      // DARE's drop mask of the index-th merged module
};

// The seed of `stream` for `index` (a position counted from 0; LayerDropout, AdaptersOfModel
// and Subsample have one seed per base and ignore it).
uint64_t derive_seed(uint64_t base, SeedStream stream, uint64_t index = 0);

Tensor rand_uniform(const Shape& shape, float lo, float hi, Rng& rng);
Tensor rand_normal(const Shape& shape, float mean, float stddev, Rng& rng);
// PyTorch's kaiming_uniform_ (leaky_relu gain with slope a, fan_in mode):
// bound = sqrt(6 / ((1 + a²) · fan_in)).
Tensor kaiming_uniform(const Shape& shape, int64_t fan_in, float a, Rng& rng);

}  // namespace ls
