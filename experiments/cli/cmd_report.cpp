// lorasum report: several reproduce runs side by side, against base-model size or pretraining
// dose.
#include <fmt/format.h>

#include "experiments/cli/commands.h"
#include "experiments/study/scale_report.h"

namespace ls::cli {

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report",
      "Gather reproduce runs on base models of several sizes, or of one size at several "
      "pretraining doses, into scale.md, scale.json and plots/: change %, RMS cos and (where "
      "measured) the non-additivity ξ per pair against size or tokens per parameter");
  static std::vector<std::string> runs;
  static std::string out;
  cmd->add_option("--runs", runs, "Finished reproduce run folders (each with results.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  static bool allow_mixed = false;
  cmd->add_option("--out", out, "Folder for scale.md, scale.json and plots/")->required();
  cmd->add_flag("--allow-mixed", allow_mixed,
                "Report runs that differ in more than their base models (data, hyperparameters, "
                "study choices, limits), listing the differences");
  cmd->callback([] {
    std::string table = write_scale_report(runs, out, allow_mixed);
    fmt::print("{0}\nWritten: {1}/scale.md, scale.json, plots/\nReport: {1}/report.html\n", table,
               out);
  });
}

}  // namespace ls::cli
