#pragma once
// The layers a GPT-2 is made of.
#include <memory>
#include <vector>

#include "autograd/autograd.h"
#include "nn/module.h"
#include "tensor/bf16_matrix.h"

namespace ls {

// Something that adds to a Linear layer's output, y = base(x) + Σ delta(x): LoRA adapters
// live in lora/ and plug in here, so nn/ needs to know nothing about them.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  virtual Tensor delta(const Tensor& x, bool training) = 0;
};

// y = x·W + b. Two weight layouts: GPT-2's Conv1D stores W as [in, out]; nn.Linear as [out, in].
class Linear : public Module {
 public:
  enum class Layout { InOut, OutIn };
  Linear(int64_t in, int64_t out, Layout layout, bool bias = true);
  Tensor forward(const Tensor& x);

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  Layout layout() const { return layout_; }
  Tensor weight() const { return weight_; }
  Tensor bias() const { return bias_; }
  // Weight as [out, in] regardless of layout (a view).

  std::vector<std::shared_ptr<LinearAdapter>>& adapters() { return adapters_; }

  // On: a bf16 copy of the weight (tensor/bf16_matrix.h), which forward passes without
  // gradients (generation) multiply by instead, reading half the bytes. A snapshot: made again
  // after the weight changes. Off: the copy is dropped.
  void keep_bf16_weight(bool on);

 private:
  int64_t in_, out_;
  Layout layout_;
  Tensor weight_, bias_;
  Bf16Matrix bf16_weight_;  // [out, in]; empty when off
  std::vector<std::shared_ptr<LinearAdapter>> adapters_;
};

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t width, float eps);
  Tensor forward(const Tensor& x);

 private:
  float eps_;
  Tensor weight_, bias_;
};

class Embedding : public Module {
 public:
  Embedding(int64_t count, int64_t width);
  Tensor forward(const std::vector<int32_t>& ids, const Shape& ids_shape);
  Tensor weight() const { return weight_; }

 private:
  Tensor weight_;
};

// Inverted dropout, seeded; the identity outside training.
class Dropout : public Module {
 public:
  Dropout(float p, uint64_t seed) : p_(p), rng_(seed) {}
  Tensor forward(const Tensor& x);
  void reseed(uint64_t seed) { rng_ = Rng(seed); }

 private:
  float p_;
  Rng rng_;
};

}  // namespace ls
