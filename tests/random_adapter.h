#pragma once
// An adapter on a test model whose B factors are random, so every delta is non-zero.
#include <memory>

#include "lora/adapter.h"
#include "tensor/random.h"

namespace ls::test {

// r = 2, alpha = 4 on the default targets; B ~ N(0, b_std²) (b_std = 0: a silent adapter).
inline std::shared_ptr<LoraAdapter> random_adapter(GPT2& model, uint64_t seed, float b_std = 1.0f) {
  LoraConfig c;
  c.r = 2;
  c.alpha = 4.0f;
  auto a = LoraAdapter::create(model, c, seed);
  Rng rng(seed + 1);
  for (auto& [name, layer] : a->layers())
    layer->B.copy_from(rand_normal(layer->B.shape(), 0, b_std, rng));
  return a;
}

}  // namespace ls::test
