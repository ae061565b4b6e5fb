#pragma once
// GPT-2 hyperparameters, read from and written to a Hugging Face config.json.
#include <cstdint>
#include <string>

namespace ls {

struct GPT2Config {
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;
  int64_t n_positions = 1024;
  int64_t vocab_size = 50257;
  float layer_norm_epsilon = 1e-5f;
  float resid_pdrop = 0.1f, embd_pdrop = 0.1f;
  // Read, checked and written back so that config.json stays Hugging Face's, but not applied:
  // neither attention path drops probabilities (the fused kernel keeps no mask to do it with).
  float attn_pdrop = 0.1f;
  int64_t bos_token_id = 50256, eos_token_id = 50256;

  // Throws InputError (naming `where`) for dimensions that make no model.
  void validate(const std::string& where) const;
  // A double: dimensions within the per-dimension limit can describe more than int64 holds.
  double parameter_count() const;
  double block_parameter_count() const;  // the transformer blocks alone

  // gpt2, gpt2-medium, gpt2-large, gpt2-xl, and small ones for tests and the embedded runs.
  static GPT2Config preset(const std::string& name);
  static GPT2Config load(const std::string& config_json_path);
  std::string to_json() const;  // the fields transformers' GPT2Config reads
};

}  // namespace ls
