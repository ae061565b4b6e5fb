#include "lora/adapter.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "tensor/error.h"

namespace ls {

LoraLayer::LoraLayer(int64_t in, int64_t out, const LoraConfig& config, uint64_t seed)
    : scaling(config.scaling()), dropout_(config.dropout, derive_seed(seed, kLayerDropoutSeeds)) {
  Rng rng(seed);
  A = kaiming_uniform({config.r, in}, in, std::sqrt(5.0f), rng).set_requires_grad(true);
  B = Tensor::zeros({out, config.r}).set_requires_grad(true);
}

Tensor LoraLayer::delta(const Tensor& x, bool training) {
  // Evaluation touches no state (dropout's generator included), so that several batches may
  // run through one model at once.
  Tensor in = x;
  if (training) {
    dropout_.set_training(true);
    in = dropout_.forward(x);
  }
  // Scaled while only r wide: the same product, at r/out of the cost of scaling the output.
  Tensor down = ag::linear(in, A, Tensor(), false);                          // (.., r)
  return ag::linear(ag::scale(down, weight * scaling), B, Tensor(), false);  // (.., out)
}

Linear* find_linear(GPT2& model, const std::string& name) {
  for (auto& [n, m] : model.named_modules())
    if (n == name) return dynamic_cast<Linear*>(m);
  return nullptr;
}

namespace {

// The Linear an adapter's module name stands for in `model`, which must have it.
Linear& adapted_linear(GPT2& model, const std::string& name) {
  Linear* linear = find_linear(model, name);
  LS_CHECK(linear, "adapter module {} is not a linear layer of the model", name);
  return *linear;
}

}  // namespace

namespace {

// The names a target can take for these modules: the last one or two parts of their full
// names ("c_attn", "attn.c_attn" for "h.0.attn.c_attn"), sorted.
std::set<std::string> target_names(const std::vector<std::string>& modules) {
  std::set<std::string> names;
  for (const std::string& m : modules) {
    size_t last = m.rfind('.');
    names.insert(m.substr(last + 1));
    if (last != std::string::npos && last > 0) names.insert(m.substr(m.rfind('.', last - 1) + 1));
  }
  return names;
}

// PEFT skips a target name that matches no module, which would hide a typo such as c_prj.
void require_each_target_matches(const LoraConfig& config,
                                 const std::vector<std::string>& linears) {
  for (const std::string& t : config.target_modules) {
    auto matches = [&](const std::string& name) { return matches_target(name, t); };
    if (std::any_of(linears.begin(), linears.end(), matches)) continue;
    input_error(
        "LoRA target '{}' matches no module of the model; valid names: {} (or a full "
        "name such as {})",
        t, fmt::join(target_names(linears), ", "), linears.front());
  }
}

}  // namespace

std::shared_ptr<LoraAdapter> LoraAdapter::create(GPT2& model, const LoraConfig& config,
                                                 uint64_t seed) {
  config.validate("LoRA config");
  std::vector<std::string> linears;
  for (auto& [name, module] : model.named_modules())
    if (dynamic_cast<Linear*>(module)) linears.push_back(name);
  if (!linears.empty()) require_each_target_matches(config, linears);
  std::shared_ptr<LoraAdapter> adapter(new LoraAdapter(config));
  uint64_t i = 0;
  for (auto& [name, module] : model.named_modules()) {
    auto* linear = dynamic_cast<Linear*>(module);
    if (!linear || !config.targets(name)) continue;
    adapter->layers_[name] =
        std::make_shared<LoraLayer>(linear->in_features(), linear->out_features(), config,
                                    derive_seed(seed, kAdapterInitSeeds, i++));
  }
  if (adapter->layers_.empty()) input_error("no module of the model matches the LoRA targets");
  return adapter;
}

std::string LoraAdapter::peft_name(const std::string& module, char factor) {
  return "base_model.model.transformer." + module + ".lora_" + factor + ".weight";
}

std::vector<std::pair<std::string, Tensor>> LoraAdapter::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, layer] : layers_) {
    out.emplace_back(peft_name(name, 'A'), layer->A);
    out.emplace_back(peft_name(name, 'B'), layer->B);
  }
  return out;
}

std::vector<Tensor> LoraAdapter::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

void LoraAdapter::set_weight(float w) {
  for (auto& [name, layer] : layers_) layer->weight = w;
}

void LoraAdapter::reseed_dropout(uint64_t seed) {
  uint64_t i = 0;
  for (auto& [name, layer] : layers_)
    layer->reseed_dropout(derive_seed(seed, kAdapterDropoutSeeds, i++));
}

void LoraAdapter::attach(GPT2& model) {
  for (auto& [name, layer] : layers_) {
    adapted_linear(model, name).adapters().push_back(layer);
  }
}

void LoraAdapter::detach(GPT2& model) {
  for (auto& [name, layer] : layers_) {
    auto& list = adapted_linear(model, name).adapters();
    list.erase(std::remove(list.begin(), list.end(), layer), list.end());
  }
}

void LoraAdapter::add_delta_to_base(GPT2& model, float sign) const {
  for (auto& [name, layer] : layers_) {
    Linear& linear = adapted_linear(model, name);
    float s = sign * layer->weight * layer->scaling;
    if (linear.layout() == Linear::Layout::InOut)  // W[in,out] += s · Aᵀ Bᵀ
      ops::gemm(linear.weight(), layer->A, layer->B,
                {.trans_a = true, .trans_b = true, .alpha = s, .beta = 1.0f});
    else  // W[out,in] += s · B A
      ops::gemm(linear.weight(), layer->B, layer->A, {.alpha = s, .beta = 1.0f});
  }
}

void LoraAdapter::merge_into(GPT2& model) const { add_delta_to_base(model, 1.0f); }
void LoraAdapter::unmerge_from(GPT2& model) const { add_delta_to_base(model, -1.0f); }

}  // namespace ls
