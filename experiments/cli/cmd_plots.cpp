// lorasum plots --from DIR: a finished run's figures and report.html redrawn from its JSON.
#include <fmt/format.h>

#include "experiments/cli/commands.h"
#include "experiments/study/figures.h"

namespace ls::cli {

void add_plots(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plots",
      "Redraw a run folder's figures from its results.json, ablation.json or scale.json "
      "(no adapters needed), and its report.html");
  static std::vector<std::string> dirs;
  cmd->add_option("--from", dirs, "Run folders of lorasum reproduce or report")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->callback([] {
    for (const std::string& dir : dirs)
      for (const std::string& path : redraw_figures(dir)) fmt::print("Written: {}\n", path);
  });
}

}  // namespace ls::cli
