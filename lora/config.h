#pragma once
// LoRA hyperparameters, read from and written to PEFT's adapter_config.json.
#include <string>
#include <vector>

namespace ls {

// PEFT's rule for one name of target_modules: the module's full name equals it or ends with
// "." + it.
bool matches_target(const std::string& module_name, const std::string& target);

struct LoraConfig {
  int64_t r = 4;
  float alpha = 64.0f;
  float dropout = 0.0f;
  std::vector<std::string> target_modules = {"c_attn", "c_proj"};
  std::string target_regex;  // PEFT also accepts a regex string (full match) instead of names
  bool use_rslora = false;
  std::string base_model = "";

  // alpha / r, or alpha / √r with rsLoRA.
  float scaling() const;
  // A module matches one name of target_modules (matches_target), or the whole regex.
  bool targets(const std::string& module_name) const;

  void validate(const std::string& where) const;
  // Reads adapter_config.json; keys we do not use are accepted, features we do not support
  // (DoRA, rank/alpha patterns, bias training, modules_to_save, …) are refused.
  static LoraConfig load(const std::string& path);
  std::string to_json() const;
};

}  // namespace ls
