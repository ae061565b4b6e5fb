// The choices of the study's code as named switches (experiments/README.md, "The study's
// choices"), and the evaluation-time ones applied to a loaded adapter.
#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "experiments/study/study.h"
#include "gpt2/training/data.h"
#include "lora/config.h"
#include "tensor/error.h"

namespace ls {

const std::vector<std::string>& study_choice_names() {
  static const std::vector<std::string> names = {
      "aligned-labels", "eval-overlap",       "merged-subsample", "discarded-lm-head",
      "shared-init",    "cproj-untransposed", "half-scale"};
  return names;
}

std::vector<std::string> parse_study_choices(const std::string& list) {
  const auto& names = study_choice_names();
  if (list == "none" || list.empty()) return {};
  if (list == "all") return names;
  std::vector<std::string> given;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "none" || item == "all")
      input_error(
          "--study-choices {}: '{}' stands alone; give --study-choices {}, or a list of "
          "the choices' names",
          list, item, item);
    if (std::find(names.begin(), names.end(), item) == names.end())
      input_error(
          "--study-choices: unknown choice '{}' (expected none, all, or a comma-separated "
          "list of {})",
          item, fmt::join(names, ", "));
    given.push_back(item);
  }
  std::vector<std::string> ordered;
  for (const std::string& n : names)
    if (std::find(given.begin(), given.end(), n) != given.end()) ordered.push_back(n);
  return ordered;
}

bool has_choice(const std::vector<std::string>& choices, const std::string& name) {
  return std::find(choices.begin(), choices.end(), name) != choices.end();
}

std::vector<std::vector<std::string>> ablation_configurations() {
  std::vector<std::vector<std::string>> out = {{}};
  for (const std::string& n : study_choice_names()) out.push_back({n});
  out.push_back(study_choice_names());
  return out;
}

std::string choices_label(const std::vector<std::string>& choices) {
  if (choices.empty()) return "none";
  if (choices == study_choice_names()) return "all";
  return fmt::format("{}", fmt::join(choices, ","));
}

namespace {

// Every example of the domains in `order`, one domain's file after another.
std::vector<Pick> concatenation(const std::vector<std::string>& order,
                                const std::map<std::string, size_t>& sizes) {
  std::vector<Pick> all;
  for (const std::string& d : order)
    for (size_t i = 0; i < sizes.at(d); ++i) all.push_back({d, i});
  return all;
}

// The test part of the study's 80/10/10 split: everything after int(0.8n) + int(0.1n).
size_t test_start(size_t n) {
  auto part = [n](double f) { return static_cast<size_t>(f * static_cast<double>(n)); };
  return part(0.8) + part(0.1);
}

std::vector<Pick> tail_split(const std::vector<std::string>& order,
                             const std::map<std::string, size_t>& sizes) {
  std::vector<Pick> all = concatenation(order, sizes);
  return {all.begin() + static_cast<std::ptrdiff_t>(test_start(all.size())), all.end()};
}

std::vector<Pick> random_split(const std::vector<std::string>& order,
                               const std::map<std::string, size_t>& sizes, uint64_t seed) {
  std::vector<Pick> all = concatenation(order, sizes), out;
  std::vector<size_t> perm = shuffled_indices(all.size(), seed);
  for (size_t i = test_start(all.size()); i < perm.size(); ++i) out.push_back(all[perm[i]]);
  return out;
}

// 50 seeded examples of each domain's test file, math, finance, medicine.
std::vector<Pick> triple_sample(const std::map<std::string, size_t>& sizes, uint64_t seed) {
  constexpr size_t kPerDomain = 50;
  std::vector<Pick> out;
  for (const char* d : {"math", "finance", "medicine"}) {
    std::vector<size_t> perm = shuffled_indices(sizes.at(d), seed);
    for (size_t i = 0; i < std::min(kPerDomain, perm.size()); ++i) out.push_back({d, perm[i]});
  }
  return out;
}

}  // namespace

std::vector<Pick> overlap_selection(const std::string& combination,
                                    const std::map<std::string, size_t>& sizes, uint64_t seed) {
  if (combination == "math+medicine") return tail_split({"math", "medicine"}, sizes);
  if (combination == "math+finance") return tail_split({"finance", "math"}, sizes);
  if (combination == "medicine+finance") return random_split({"finance", "medicine"}, sizes, seed);
  LS_CHECK(combination == "triple", "no study evaluation set for {}", combination);
  return triple_sample(sizes, seed);
}

void apply_eval_choices(LoraAdapter& adapter, const std::vector<std::string>& choices,
                        bool from_multiply_out) {
  // multiplyOut.py scales B·A by α / 8 for rank-4 adapters trained at α / 4.
  if (has_choice(choices, "half-scale") && from_multiply_out) adapter.set_weight(0.5f);
  if (!has_choice(choices, "cproj-untransposed")) return;
  for (auto& [name, layer] : adapter.layers()) {
    bool square = layer->A.size(1) == layer->B.size(0);
    if (!square || !matches_target(name, "attn.c_proj")) continue;
    // (s·B·A)ᵀ = s·Aᵀ·Bᵀ: the transposed delta is the adapter with A' = Bᵀ and B' = Aᵀ.
    Tensor a = layer->B.transpose(0, 1).clone(), b = layer->A.transpose(0, 1).clone();
    layer->A = a;
    layer->B = b;
  }
}

}  // namespace ls
