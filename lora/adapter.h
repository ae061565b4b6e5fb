#pragma once
// LoRA adapters on a GPT-2: y = base(x) + weight · scaling · B(A(dropout(x))).
//
// A LoraAdapter owns one LoraLayer per targeted Linear. Attaching it plugs the layers into
// the Linears (nn::LinearAdapter), so several adapters can be active at once and their deltas
// add (the unmerged sum PEFT and llama.cpp use); merging folds one into the base weights.
#include <map>
#include <memory>
#include <string>

#include "gpt2/model.h"
#include "lora/config.h"

namespace ls {

// From an adapter's seed: the seed of its index-th layer (the Rng that draws A), and the
// dropout seed of its index-th layer at each reseed_dropout.
inline constexpr SeedStream kAdapterInitSeeds{SeedStream::Rule::Stride, 1000003};
inline constexpr SeedStream kAdapterDropoutSeeds{SeedStream::Rule::Stride, 104729};
// From a layer's seed: its dropout's seed until the first reseed, apart from A's draws.
inline constexpr SeedStream kLayerDropoutSeeds{SeedStream::Rule::Salt, 0x5eed};

class LoraLayer : public LinearAdapter {
 public:
  LoraLayer(int64_t in, int64_t out, const LoraConfig& config, uint64_t seed);
  Tensor delta(const Tensor& x, bool training) override;
  void reseed_dropout(uint64_t seed) { dropout_.reseed(seed); }

  Tensor A, B;          // [r, in] kaiming-uniform(a=√5), [out, r] zeros
  float scaling;        // alpha / r (or / √r)
  float weight = 1.0f;  // user multiplier, e.g. DIR@0.5 on the command line

 private:
  Dropout dropout_;
};

class LoraAdapter {
 public:
  // A fresh adapter (B = 0, so it changes nothing until trained) for every Linear of `model`
  // that config.targets(); InputError when no module matches.
  static std::shared_ptr<LoraAdapter> create(GPT2& model, const LoraConfig& config, uint64_t seed);
  // Reads a PEFT folder (adapter_config.json + adapter_model.safetensors) and checks every
  // tensor against `model`'s modules and shapes.
  static std::shared_ptr<LoraAdapter> load(const std::string& dir, GPT2& model);
  // Writes the PEFT folder atomically.
  void save(const std::string& dir) const;

  const LoraConfig& config() const { return config_; }
  // Module full name (e.g. "h.0.attn.c_attn") -> layer, ordered by name.
  const std::map<std::string, std::shared_ptr<LoraLayer>>& layers() const { return layers_; }
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;  // PEFT names
  std::vector<Tensor> parameters() const;

  void set_weight(float w);
  void reseed_dropout(uint64_t seed);
  // Makes the layers active in the model's forward pass (adapters add), or removes them.
  void attach(GPT2& model);
  void detach(GPT2& model);
  // W += weight · scaling · (BA) in the base weights (and the reverse).
  void merge_into(GPT2& model) const;
  void unmerge_from(GPT2& model) const;

  // PEFT's tensor name for a module's A or B factor.
  static std::string peft_name(const std::string& module, char factor);

 private:
  LoraAdapter(LoraConfig config) : config_(std::move(config)) {}
  void add_delta_to_base(GPT2& model, float sign) const;

  LoraConfig config_;
  std::map<std::string, std::shared_ptr<LoraLayer>> layers_;
};

// The Linear with this full name in the model, or null.
Linear* find_linear(GPT2& model, const std::string& name);

}  // namespace ls
