#pragma once
// The interference measures of interference.h fed by a model running over each adapter's
// domain data: the inputs each adapted module receives, the loss gradients at the base model,
// and the predictions with one adapter against those with the sum.
#include <map>
#include <string>
#include <vector>

#include "gpt2/training/data.h"
#include "lora/adapter.h"
#include "lora/interference.h"

namespace ls {

// A domain's examples and how they are batched.
struct ProbeData {
  std::vector<Example> examples;
  int64_t batch = 8;
  int64_t seq_len = 128;  // capped at the model's context
};

// Per module both adapters have, the overlap of their outputs on the inputs the model (with
// whatever adapters are attached to it) feeds that module, at the positions that predict a
// counted token.
std::map<std::string, OutputOverlap> probe_outputs(GPT2& model, const AdapterFactors& a,
                                                   const AdapterFactors& b, const ProbeData& data);

// The gradient of the mean token loss over data with respect to the weights of these modules
// (their stored layout), the model's parameters left as they were.
std::vector<Tensor> weight_gradients(GPT2& model, const std::vector<std::string>& modules,
                                     const ProbeData& data);

// The disentanglement error ξ on data: the mean over its counted tokens of
// KL(p with `single` alone ‖ p with `single` and every one of `others` attached).
double disentanglement_error(GPT2& model, LoraAdapter& single,
                             const std::vector<LoraAdapter*>& others, const ProbeData& data);

// ‖W‖_F of every Linear of the model, by full module name.
std::map<std::string, double> base_weight_norms(GPT2& model);

// Every measure for one pair, a on data_a (its domain) and b on data_b, at the base model
// (no adapter attached on entry).
struct PairInterference {
  double cross_talk = 0.0;         // mean over shared modules and both directions
  double activation_cosine = 0.0;  // RMS over shared modules and both directions
  double gradient_cosine = 0.0;    // the two domains' gradients, flattened over shared modules
  double xi_a = 0.0, xi_b = 0.0;   // ξ of a on data_a and of b on data_b
  double xi_mean() const { return (xi_a + xi_b) / 2.0; }
  NormBaseline norms;
  double relative_norm_a = 0.0, relative_norm_b = 0.0;  // relative_delta_norm of each
};
PairInterference pair_interference(GPT2& model, LoraAdapter& a, LoraAdapter& b,
                                   const ProbeData& data_a, const ProbeData& data_b);

}  // namespace ls
