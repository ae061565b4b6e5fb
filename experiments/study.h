#pragma once
// The study's evaluation: perplexities of every model on every domain, similarities, and the
// figures built from them (pairs, triple, singles matrix, fit), per seed and over seeds.
#include <map>
#include <string>
#include <vector>

#include "experiments/reproduce.h"
#include "lora/evaluate.h"
#include "lora/similarity.h"

namespace ls {

// A figure over seeds.
struct Stat {
  std::vector<double> values;  // one per seed
  double mean() const;
  double std() const;          // sample standard deviation (0 for one seed)
};

struct PairResult {
  std::vector<std::string> domains;
  Stat ppl_merged, ppl_sum, change_pct, rms_cos, mean_abs_cos, max_abs_cos, param_cos;
};

struct VariantResult {
  std::vector<std::string> merged;  // the pair trained on merged data
  std::string single;               // the third domain's single adapter
  Stat ppl, change_pct, rms_cos;    // change vs the all-three merged adapter
};

struct Fit {
  double slope = 0, intercept = 0, pearson_r = 0;
  int points = 0;
};

struct StudyResults {
  std::vector<std::string> domains;
  std::vector<PairResult> pairs;
  PairResult triple;  // rms_cos: RMS over the three pairs' module cosines
  std::vector<VariantResult> variants;
  // singles[adapter domain][eval domain] = perplexity; plus the base model's row.
  std::map<std::string, std::map<std::string, Stat>> singles;
  std::map<std::string, Stat> base;
  Fit fit;  // change % against RMS cosine over all pairs × seeds
  // Seed-0 similarity reports of the pairs, for heatmaps.
  std::map<std::string, SimilarityReport> pair_similarity;
  Baseline random_cos;  // at the shapes of the first pair
};

// Evaluates every model of every seed (adapters must exist) and assembles the figures.
StudyResults evaluate_study(const ReproduceOptions& options, const Preset& preset,
                            const std::vector<AdapterJob>& jobs, const std::string& model_dir,
                            const std::string& data_dir);

Fit least_squares(const std::vector<double>& x, const std::vector<double>& y);

// Writes results.md/.csv/.json and the plots into run_dir; returns the terminal tables.
std::string write_study_report(const StudyResults& results, const ReproduceOptions& options,
                               const Preset& preset, const std::vector<AdapterJob>& jobs,
                               const std::string& run_dir, double seconds);

}  // namespace ls
