#pragma once
// Beside each naive sum of the study: the other ways to compose the same single adapters
// (searched weights, TIES, DARE, SVD re-compression), each scored against merged-data training
// like the sum, and the non-additivity of the sum measured directly (ξ and the adapters'
// relative delta norms).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/study/study.h"
#include "gpt2/training/data.h"
#include "lora/adapter.h"

namespace ls {

// The compositions, in table order: the naive sum first.
const std::vector<std::string>& composition_methods();
// A composition's name as a table heads its column ("TIES (density 0.2)"), given the
// densities and rank it was made with.
std::string composition_label(const std::string& method, double ties_density, double dare_density,
                              int64_t svd_rank);
// `names` (comma-separated methods of composition_methods() but "sum", or "none"), checked, in
// table order; InputError naming `flag` and the methods otherwise.
std::vector<std::string> parse_composed(const std::string& names, const std::string& flag);

struct CombinationExtras {
  std::vector<std::string> domains;
  Stat ppl_merged;
  std::map<std::string, Stat> change_pct, ppl;  // by composition method
  std::map<std::string, Stat> xi;               // by domain: ξ of its single adapter
  Stat xi_mean;                                 // over the combination's domains
  std::map<std::string, Stat> relative_norm;    // by domain: ‖ΔW‖/‖W‖, RMS over modules
  std::map<std::string, Stat> searched_weight;  // by domain: the weight the search found
};

struct CompositionResults {
  std::vector<std::string> methods;  // scored, in table order: "sum" first
  bool scored(const std::string& method) const {
    return std::find(methods.begin(), methods.end(), method) != methods.end();
  }
  std::vector<CombinationExtras> combinations;  // the pairs, then the triple
  int64_t svd_rank = 0;
  size_t validation_per_domain = 0;
};

// Scores adapters attached together the way the study scores a combination (perplexity).
using CombinationScorer =
    std::function<double(const std::vector<std::shared_ptr<LoraAdapter>>& adapters)>;

class CompositionStudy {
 public:
  // `test`: each domain's test examples (ξ); `validation`: the slice of each domain's train
  // split the searched weights are fitted on; `rank`: the SVD re-compression rank;
  // `search_steps`: the most steps the weight search takes; `composed`: the methods scored
  // beside the sum (parse_composed).
  CompositionStudy(GPT2& model, std::map<std::string, std::vector<Example>> test,
                   std::map<std::string, std::vector<Example>> validation, int64_t rank,
                   int64_t batch, int64_t seq_len, int search_steps,
                   const std::vector<std::string>& composed);

  // One seed's combination: its single adapters, the merged-data perplexity and the naive
  // sum's (already scored), and how to score any other composition.
  void add(const std::vector<std::string>& domains,
           const std::vector<std::shared_ptr<LoraAdapter>>& singles, double ppl_merged,
           double ppl_sum, const CombinationScorer& score);

  const CompositionResults& results() const { return results_; }

 private:
  CombinationExtras& extras(const std::vector<std::string>& domains);
  void add_nonadditivity(CombinationExtras& e,
                         const std::vector<std::shared_ptr<LoraAdapter>>& singles);

  GPT2& model_;
  std::map<std::string, std::vector<Example>> test_, validation_;
  int64_t rank_, batch_, seq_len_;
  int search_steps_;
  std::map<std::string, double> base_norms_;
  CompositionResults results_;
};

// The first `count` examples of a seeded shuffle of a train split: the validation slice.
constexpr size_t kValidationPerDomain = 64;
std::vector<Example> validation_slice(const std::vector<Example>& train,
                                      size_t count = kValidationPerDomain);

// What the non-additivity table's columns measure, under its heading in results.md and report.html.
inline constexpr const char* kNonadditivityLegend =
    "ξ: mean over a domain's test tokens of KL(p with its single adapter ‖ p with the sum). "
    "‖ΔW‖/‖W‖: each single adapter's delta relative to the base weight, RMS over modules.";

// Adds the compositions' sections to results.md's `markdown` and "compositions" to
// `results` (results.json), and writes compositions.csv (change % of each composition) and
// nonadditivity.csv (ξ, relative norms and searched weights per domain) into run_dir.
void add_compositions(const CompositionResults& r, std::string& markdown, nlohmann::json& results,
                      const std::string& run_dir);

}  // namespace ls
