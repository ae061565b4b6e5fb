// The choices of the study's code (study_choices.h), read by name once, and the evaluation-time
// ones applied to a loaded adapter.
#include "experiments/study/study_choices.h"

#include <fmt/format.h>

#include <algorithm>

#include "experiments/app/comma_list.h"
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

StudyChoices::StudyChoices(std::initializer_list<StudyChoice> choices) {
  for (StudyChoice c : choices) bits_ |= 1u << static_cast<unsigned>(c);
}

StudyChoices StudyChoices::all() {
  StudyChoices out;
  out.bits_ = (1u << study_choice_names().size()) - 1;
  return out;
}

StudyChoices StudyChoices::parse(const std::string& list, const std::string& source) {
  const auto& names = study_choice_names();
  if (list == "none" || list.empty()) return {};
  if (list == "all") return all();
  StudyChoices given;
  for (const std::string& item : comma_items(list)) {
    if (item == "none" || item == "all")
      input_error("{} {}: '{}' stands alone; give {} {}, or a list of the choices' names", source,
                  list, item, source, item);
    auto found = std::find(names.begin(), names.end(), item);
    if (found == names.end())
      input_error("{}: unknown choice '{}' (expected none, all, or a comma-separated list of {})",
                  source, item, fmt::join(names, ", "));
    given.bits_ |= 1u << static_cast<unsigned>(found - names.begin());
  }
  return given;
}

std::vector<std::string> StudyChoices::names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < study_choice_names().size(); ++i)
    if (has(static_cast<StudyChoice>(i))) out.push_back(study_choice_names()[i]);
  return out;
}

std::string StudyChoices::label() const {
  if (empty()) return "none";
  if (*this == all()) return "all";
  return fmt::format("{}", fmt::join(names(), ","));
}

std::vector<StudyChoices> ablation_configurations() {
  std::vector<StudyChoices> out = {{}};
  for (size_t i = 0; i < study_choice_names().size(); ++i)
    out.push_back({static_cast<StudyChoice>(i)});
  out.push_back(StudyChoices::all());
  return out;
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

void apply_eval_choices(LoraAdapter& adapter, const StudyChoices& choices, bool from_multiply_out) {
  // multiplyOut.py scales B·A by α / 8 for rank-4 adapters trained at α / 4.
  if (choices.has(StudyChoice::half_scale) && from_multiply_out) adapter.set_weight(0.5f);
  if (!choices.has(StudyChoice::cproj_untransposed)) return;
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
