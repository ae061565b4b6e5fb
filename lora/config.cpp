#include "lora/config.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/json_brief.h"

namespace ls {

using nlohmann::json;

float LoraConfig::scaling() const {
  return use_rslora ? alpha / std::sqrt(static_cast<float>(r)) : alpha / static_cast<float>(r);
}

bool matches_target(const std::string& name, const std::string& t) {
  if (name == t) return true;
  return name.size() > t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0 &&
         name[name.size() - t.size() - 1] == '.';
}

bool LoraConfig::targets(const std::string& name) const {
  if (!target_regex.empty()) return std::regex_match(name, std::regex(target_regex));
  return std::any_of(target_modules.begin(), target_modules.end(),
                     [&](const std::string& t) { return matches_target(name, t); });
}

void LoraConfig::validate(const std::string& where) const {
  if (r <= 0 || r > 65536) input_error("{}: rank r = {} must be a positive integer", where, r);
  if (!std::isfinite(alpha)) input_error("{}: lora_alpha must be a finite number", where);
  if (!(dropout >= 0.0f && dropout < 1.0f))
    input_error("{}: lora_dropout = {} must be in [0, 1)", where, dropout);
  if (target_modules.empty() && target_regex.empty())
    input_error("{}: target_modules is empty", where);
}

namespace {

// A key whose value must be empty/false/null for us to handle the adapter faithfully.
void refuse_if_set(const json& j, const char* key, const char* feature, const std::string& path) {
  if (!j.contains(key)) return;
  const json& v = j[key];
  bool set = !(v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
               ((v.is_object() || v.is_array()) && v.empty()));
  if (set) input_error("{}: {} ({} = {}) is not supported", path, feature, key, json_brief(v));
}

template <typename T>
T get(const json& j, const char* key, T fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const json& v = j[key];
  // nlohmann converts numbers freely: 4.5 would become rank 4, 1e30 an undefined int64 and a
  // float infinity.
  bool fits = true;
  if constexpr (std::is_same_v<T, int64_t>) fits = v.is_number_integer();
  if constexpr (std::is_same_v<T, float>)
    fits = v.is_number() && std::abs(v.get<double>()) <= FLT_MAX;
  try {
    if (fits) return v.get<T>();
  } catch (const json::exception&) {  // the wrong type: reported below
  }
  input_error("{}: \"{}\" has the wrong type or range ({})", path, key, json_brief(v));
}

}  // namespace

LoraConfig LoraConfig::load(const std::string& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    input_error("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.is_object()) input_error("{}: expected a JSON object", path);
  std::string type = get<std::string>(j, "peft_type", "LORA", path);
  if (type != "LORA") input_error("{}: peft_type {} is not LORA", path, type);
  refuse_if_set(j, "use_dora", "DoRA", path);
  refuse_if_set(j, "rank_pattern", "per-module ranks", path);
  refuse_if_set(j, "alpha_pattern", "per-module alphas", path);
  refuse_if_set(j, "modules_to_save", "extra trained modules", path);
  refuse_if_set(j, "layers_to_transform", "layer selection", path);
  refuse_if_set(j, "layer_replication", "layer replication", path);
  std::string bias = get<std::string>(j, "bias", "none", path);
  if (bias != "none") input_error("{}: bias = \"{}\" is not supported (only \"none\")", path, bias);

  LoraConfig c;
  c.r = get<int64_t>(j, "r", 8, path);
  c.alpha = get<float>(j, "lora_alpha", 8.0f, path);
  c.dropout = get<float>(j, "lora_dropout", 0.0f, path);
  c.use_rslora = get<bool>(j, "use_rslora", false, path);
  c.base_model = get<std::string>(j, "base_model_name_or_path", "", path);
  if (!j.contains("target_modules") || j["target_modules"].is_null())
    input_error("{}: target_modules is missing", path);
  if (j["target_modules"].is_string()) {
    c.target_modules.clear();
    c.target_regex = j["target_modules"].get<std::string>();
  } else {
    c.target_modules = get<std::vector<std::string>>(j, "target_modules", {}, path);
  }
  c.validate(path);
  return c;
}

std::string LoraConfig::to_json() const {
  json j = {{"peft_type", "LORA"},
            {"task_type", "CAUSAL_LM"},
            {"base_model_name_or_path", base_model},
            {"r", r},
            {"lora_alpha", alpha},
            {"lora_dropout", dropout},
            {"fan_in_fan_out", true},  // GPT-2's Conv1D stores weights [in, out]
            {"bias", "none"},
            {"use_rslora", use_rslora},
            {"use_dora", false},
            {"init_lora_weights", true},
            {"inference_mode", true},
            {"modules_to_save", nullptr},
            {"rank_pattern", json::object()},
            {"alpha_pattern", json::object()}};
  if (target_regex.empty())
    j["target_modules"] = target_modules;
  else
    j["target_modules"] = target_regex;
  return j.dump(2) + "\n";
}

}  // namespace ls
