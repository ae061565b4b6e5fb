// lorasum predictors: which measure of two adapters predicts their naive sum's change.
#include <fmt/format.h>

#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/study/predictors.h"

namespace ls::cli {

void add_predictors(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "predictors",
      "Over every pair × seed × configuration of finished reproduce runs, each interference "
      "predictor (weight cosine, cross-talk, activation and gradient cosines, ξ, norms) against "
      "the pair's change %: Pearson and Spearman with bootstrap intervals, overall and for "
      "independent vs shared initialisation; predictors.md/csv/json and plots/predictors.svg");
  static std::vector<std::string> runs;
  static std::string out;
  static PredictorOptions o;
  cmd->add_option("--runs", runs, "Finished reproduce run folders (results.json, adapters)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", out, "Folder for predictors.md/csv/json and plots/")->required();
  cmd->add_option("--model", o.model_dir,
                  "Base model of runs that have no base-model/ folder and no model folder recorded "
                  "in results.json (or whose recorded folder has changed)");
  cmd->add_option("--data", o.data_dir, "QA data of runs that have no data/ folder");
  cmd->add_option("--data-limit", o.data_limit, "Test examples per domain (0 = all)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_flag_callback(
      "--no-progress", [] { o.progress = false; }, "No progress bar");
  cmd->callback([] {
    std::vector<PredictorRow> rows = collect_predictor_rows(runs, o);
    fmt::print(
        "{}\nWritten: {}/predictors.md, predictors.csv, predictors.json, "
        "plots/predictors.svg\n",
        write_predictor_report(rows, out), out);
  });
}

}  // namespace ls::cli
