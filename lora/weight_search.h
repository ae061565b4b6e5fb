#pragma once
// Choosing the weights of a sum of adapters on held-out data: one scalar per adapter (or per
// adapter and module kind), fitted by gradient descent through the autograd on the summed
// model's mean token loss, the adapters' factors frozen.
#include <memory>
#include <string>
#include <vector>

#include "gpt2/training/data.h"
#include "lora/factors.h"

namespace ls {

// Freezes every parameter of the model for its lifetime (so a backward pass reaches only the
// tensors the caller marks), then restores each one's requires_grad.
class FrozenParameters {
 public:
  explicit FrozenParameters(const Module& model);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<bool> was_;
};

// Attaches every adapter's modules to the model as frozen deltas, each scaled by a trainable
// scalar weight; detaches them when destroyed. Weights start at 1.
class WeightedSum {
 public:
  // per_module: a weight per adapter and module kind ("attn.c_attn", …); else one per adapter.
  // InputError when an adapter's module is not in the model or has another shape.
  WeightedSum(GPT2& model, const std::vector<AdapterFactors>& adapters, bool per_module);
  ~WeightedSum();
  WeightedSum(const WeightedSum&) = delete;
  WeightedSum& operator=(const WeightedSum&) = delete;

  // The module kinds the weights are per ({"all"} without per_module).
  const std::vector<std::string>& kinds() const { return kinds_; }
  // [adapter][kind]; the leaf tensors (shape {1}) the gradient reaches.
  const std::vector<std::vector<Tensor>>& weights() const { return weights_; }
  std::vector<std::vector<float>> values() const;
  void set(const std::vector<std::vector<float>>& values);

  // The mean loss over all counted tokens of the batches; with `gradient`, also back-propagates
  // it into the weights' .grad (accumulating: zero them first).
  double loss(const std::vector<Batch>& batches, bool gradient);

 private:
  GPT2& model_;
  std::vector<std::string> kinds_;
  std::vector<std::vector<Tensor>> weights_;
  std::vector<std::pair<Linear*, std::shared_ptr<LinearAdapter>>> attached_;
};

struct WeightSearchOptions {
  bool per_module = false;
  int steps = 30;   // at most
  float lr = 0.1f;  // Adam, no weight decay
  // Stops early once the best loss has not improved by `tolerance` in `patience` steps: a
  // flat loss (adapters that barely move the model) needs no more passes over the data.
  int patience = 5;
  double tolerance = 1e-4;
  int64_t batch = 8, seq_len = 128;
};

struct WeightSearch {
  std::vector<std::string> kinds;
  std::vector<std::vector<float>> weights;     // [adapter][kind]: the best seen
  double loss_before = 0.0, loss_after = 0.0;  // mean token loss at all-ones and at weights
  int steps = 0;                               // the steps taken
};

// Fits the weights on `validation` from all-ones, keeping the lowest-loss weights seen.
WeightSearch search_weights(GPT2& model, const std::vector<AdapterFactors>& adapters,
                            const std::vector<Example>& validation,
                            const WeightSearchOptions& options);

// The adapters with their weights folded into each module's scale: their plain sum is the
// weighted sum (a weight multiplies the scale exactly as compose's --weights does).
std::vector<AdapterFactors> apply_weights(const std::vector<AdapterFactors>& adapters,
                                          const WeightSearch& search);

// The examples in batches of at most `batch`, cut to seq_len (or the context), in length order.
std::vector<Batch> length_batches(const std::vector<Example>& examples, int64_t batch,
                                  int64_t seq_len);

}  // namespace ls
