#pragma once
// The study's evaluation: perplexities of every model on every domain, similarities, and the
// figures built from them (pairs, triple, singles matrix, fit), per seed and over seeds.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "experiments/study/reproduce.h"
#include "gpt2/training/evaluate.h"
#include "lora/similarity.h"

namespace ls {

// A figure over seeds.
struct Stat {
  std::vector<double> values;  // one per seed
  double mean() const;
  double std() const;  // sample standard deviation (0 for one seed)
};

// "math+medicine" for {"math", "medicine"}.
std::string domains_label(const std::vector<std::string>& domains);
// "mean ± std" (the mean alone for one seed), each through its fmt format; the std uses the
// mean's format when none is given.
std::string mean_pm(const Stat& s, const char* mean_format = "{:.2f}",
                    const char* std_format = nullptr);
// The same from a mean and a std (NaN: the mean alone).
std::string mean_pm(double mean, double std, const char* mean_format,
                    const char* std_format = nullptr);

struct PairResult {
  std::vector<std::string> domains;
  Stat ppl_merged, ppl_sum, change_pct, rms_cos, mean_abs_cos, max_abs_cos, param_cos;
  // Each model's perplexity on each domain's own test split, whatever set scored the pair.
  std::map<std::string, Stat> merged_by_domain, sum_by_domain;
};

struct VariantResult {
  std::vector<std::string> merged;  // the pair trained on merged data
  std::string single;               // the third domain's single adapter
  Stat ppl, change_pct, rms_cos;    // change vs the all-three merged adapter
};

struct Fit {
  // Two points always lie on a line (r = ±1) and fewer give none: a fit says something from 3.
  static constexpr int kMinPoints = 3;
  double slope = 0, intercept = 0, pearson_r = 0;
  int points = 0;
  bool defined() const { return points >= kMinPoints; }
};

struct CompositionResults;  // experiments/study/compositions.h

struct StudyResults {
  std::vector<std::string> domains;
  StudyChoices choices;  // the study choices switched on
  // data_file_digests of the data the jobs trained on and evaluation scored: what `report`
  // compares to tell whether two runs saw the same data.
  std::map<std::string, std::string> data_files;
  std::vector<PairResult> pairs;
  bool has_triple = false;
  PairResult triple;  // rms_cos: RMS over the three pairs' module cosines
  std::vector<VariantResult> variants;
  // singles[adapter domain][eval domain] = perplexity; plus the base model's row.
  std::map<std::string, std::map<std::string, Stat>> singles;
  std::map<std::string, Stat> base;
  Fit fit;      // change % against RMS cosine over all pairs × seeds
  Fit fit_all;  // the same over every combination: pairs, triple and variants × seeds
  // Seed-0 similarity reports of the pairs, for heatmaps.
  std::map<std::string, SimilarityReport> pair_similarity;
  Baseline random_cos;  // at the shapes of the first pair
  // Other compositions than the naive sum, and ξ; absent when not measured.
  std::shared_ptr<const CompositionResults> compositions;
};

// "<domain>/<split>" → digest of <data_dir>/<domain>/<split>.jsonl, train and test of each
// study domain.
std::map<std::string, std::string> data_file_digests(const std::string& data_dir);

// Evaluates every model of every seed (adapters must exist) and assembles the figures, with
// the evaluation-time study choices applied.
StudyResults evaluate_study(const ReproduceOptions& options, const Preset& preset,
                            const StudyChoices& choices, const std::vector<AdapterJob>& jobs,
                            const std::string& model_dir, const std::string& data_dir);

// eval-overlap: the examples the study's code scored a combination on, as (domain, index into
// that domain's train or test file). Pairs: Math+Med the tail 10 % of [math train ++ medicine
// train], Math+Fin the tail 10 % of [finance train ++ math train], Fin+Med a random 10 % of
// [finance train ++ medicine train] (`seed`); the triple: 50 seeded test examples per domain.
struct Pick {
  std::string domain;
  size_t index;
  bool operator==(const Pick& o) const { return domain == o.domain && index == o.index; }
};
std::vector<Pick> overlap_selection(const std::string& combination,
                                    const std::map<std::string, size_t>& sizes, uint64_t seed);
// The length (tokens) the study's code evaluated the triple at.
constexpr int64_t kStudyTripleLength = 64;

// The evaluation-time study choices on one loaded adapter: half-scale halves its weight
// (`from_multiply_out`: its delta went through the study's multiplyOut.py); cproj-untransposed
// replaces each square attn.c_proj delta by its transpose.
void apply_eval_choices(LoraAdapter& adapter, const StudyChoices& choices, bool from_multiply_out);

// ablation.md/.csv/.json and plots/ablation.svg in run_dir, one row per configuration, from
// the results of each configuration, headed by the settings of `record` (a results.json record
// of the run; its study choices are the configurations'); returns the terminal table.
std::string write_ablation_report(const std::vector<StudyResults>& configurations,
                                  const std::string& run_dir, const nlohmann::json& record);

// The study's published pairwise changes (arXiv 2508.11985, GPT-2 Small, r=4, α=64).
const std::map<std::string, double>& published_change();

Fit least_squares(const std::vector<double>& x, const std::vector<double>& y);

// The results.json record of a run: its settings (what run_settings_lines reads), its jobs and
// its figures.
nlohmann::json results_json(const StudyResults& results, const ReproduceOptions& options,
                            const Preset& preset, const std::vector<AdapterJob>& jobs,
                            double seconds);

// Writes results.md/.csv/.json and the plots into run_dir; returns the terminal tables.
std::string write_study_report(const StudyResults& results, const ReproduceOptions& options,
                               const Preset& preset, const std::vector<AdapterJob>& jobs,
                               const std::string& run_dir, double seconds);

}  // namespace ls
