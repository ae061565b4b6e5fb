#include "experiments/study/run_settings.h"

#include <fmt/format.h>

#include <algorithm>

namespace ls {

namespace {

using nlohmann::json;
using Lines = std::vector<std::pair<std::string, std::string>>;

// A JSON value as it reads in prose: strings unquoted, lists joined by commas.
std::string text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::vector<std::string> items;
    for (const json& item : v) items.push_back(text(item));
    return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ", "));
  }
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());  // 64, not 64.0
  return v.dump();
}

// "2 layers × 32 wide, 96 positions, 31104 parameters" from the record's base_model.
std::string model_shape(const json& m) {
  return fmt::format("{} layers × {} wide, {} positions, {:.0f} parameters", text(m["n_layer"]),
                     text(m["n_embd"]), text(m["n_positions"]), m.value("parameters", 0.0));
}

// Where the base model came from and its shape; records of older builds have the shape alone.
void add_base_model(Lines& lines, const json& r) {
  bool shape = r.contains("base_model") && r["base_model"].is_object();
  if (r.contains("base_model_source"))
    lines.emplace_back("base model", text(r["base_model_source"]) +
                                         (shape ? " (" + model_shape(r["base_model"]) + ")" : ""));
  else if (shape)
    lines.emplace_back("base model", model_shape(r["base_model"]));
}

// The values of `key` over the record's jobs, each once, in order of first use.
std::string job_values(const json& results, const char* key) {
  std::vector<std::string> seen;
  for (const json& job : results.value("jobs", json::array()))
    if (job.contains(key) && std::find(seen.begin(), seen.end(), text(job[key])) == seen.end())
      seen.push_back(text(job[key]));
  return fmt::format("{}", fmt::join(seen, ", "));
}

void add(Lines& lines, const json& r, const char* key, const std::string& name) {
  if (r.contains(key) && !r[key].is_null()) lines.emplace_back(name, text(r[key]));
}

// The base model's dose, when lorasum pretrained it: tokens, per parameter, validation loss.
void add_pretraining(Lines& lines, const json& dose) {
  if (!dose.is_object() || !dose.contains("tokens")) return;
  std::string loss = dose.value("valid_loss", json()).is_number()
                         ? fmt::format(", validation loss {:.3f}", dose["valid_loss"].get<double>())
                         : "";
  lines.emplace_back(
      "pretraining",
      fmt::format("{} tokens ({:.2f} per parameter, {:.2f} passes{})", text(dose["tokens"]),
                  dose.value("tokens_per_parameter", 0.0), dose.value("passes", 0.0), loss));
}

}  // namespace

std::string cut_short_flags(const json& results) {
  std::vector<std::string> flags;
  for (const char* key : {"max_steps", "eval_limit"})
    if (results.contains(key) && results[key].is_number())
      flags.push_back(fmt::format("--{} {}",
                                  key == std::string("max_steps") ? "max-steps" : "eval-limit",
                                  text(results[key])));
  return fmt::format("{}", fmt::join(flags, ", "));
}

Lines run_settings_lines(const json& r) {
  Lines lines;
  add(lines, r, "preset", "preset");
  add_base_model(lines, r);
  if (r.contains("base_model") && r["base_model"].is_object())
    add_pretraining(lines, r["base_model"].value("pretraining", json()));
  add(lines, r, "data_source", "data");
  add(lines, r, "seeds", "seeds");
  add(lines, r, "hparams", "hyperparameters");
  std::string lr = job_values(r, "lr");
  if (!lr.empty())
    lines.emplace_back("adapter learning rate",
                       lr + (r.value("adapter_lr", json()).is_number() ? " (--lr)" : ""));
  std::string batching = job_values(r, "batching");
  if (!batching.empty()) lines.emplace_back("batching", batching);
  if (r.contains("lora") && r["lora"].is_object())
    lines.emplace_back("LoRA", fmt::format("r = {}, alpha = {}, targets {}", text(r["lora"]["r"]),
                                           text(r["lora"]["alpha"]), text(r["lora"]["targets"])));
  add(lines, r, "study_choices", "study choices");
  add(lines, r, "precision", "precision");
  if (r.contains("only"))
    lines.emplace_back("results",
                       r["only"].is_string() ? "only " + text(r["only"]) + " (--only)" : "all");
  std::string cut = cut_short_flags(r);
  if (!cut.empty()) lines.emplace_back("cut short", cut);
  return lines;
}

std::string run_settings_markdown(const Lines& lines, const std::string& cut_short) {
  std::string out;
  if (!cut_short.empty())
    out +=
        fmt::format("**Cut short ({}): these are not the figures of a full run.**\n\n", cut_short);
  for (const auto& [name, value] : lines) out += fmt::format("- {}: {}\n", name, value);
  return out + "\n";
}

}  // namespace ls
