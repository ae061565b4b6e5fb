#pragma once
// `lorasum predictors`: which measure of two adapters predicts the perplexity change of their
// naive sum. Every pair × seed × configuration of finished reproduce runs becomes one row:
// the pair's change % and each predictor, measured on the run's own adapters and test data;
// then Pearson and Spearman correlations with bootstrap intervals, over all rows and separately
// for independently and jointly (shared-init) initialised adapters.
#include <map>
#include <string>
#include <vector>

#include "experiments/study/correlation.h"

namespace ls {

// The predictors, in table order: the study's RMS weight cosine first.
const std::vector<std::string>& predictor_names();

struct PredictorRow {
  std::string run, configuration, pair;
  int seed = 0;
  bool shared_init = false;
  double change_pct = 0.0;
  std::map<std::string, double> values;  // by predictor name
};

struct PredictorOptions {
  std::string model_dir, data_dir;  // when a run has no base-model/ or data/ of its own
  int64_t data_limit = 64;          // test examples per domain
  bool progress = true;             // a progress bar over the rows on stderr
};

// One row per pair × seed of every results.json in each run folder (the run's own, and each
// configuration's under ablation/). InputError names a folder that holds none, or an adapter,
// model or data folder that is missing.
std::vector<PredictorRow> collect_predictor_rows(const std::vector<std::string>& runs,
                                                 const PredictorOptions& options);

struct PredictorCorrelation {
  std::string predictor, subset;  // subset: all, independent or shared
  int rows = 0;
  Estimate pearson, spearman;
};
std::vector<PredictorCorrelation> predictor_correlations(const std::vector<PredictorRow>& rows);

// predictors.md, predictors.csv, predictors.json and plots/predictors.svg in out_dir; returns
// the correlation table.
std::string write_predictor_report(const std::vector<PredictorRow>& rows,
                                   const std::string& out_dir);

}  // namespace ls
