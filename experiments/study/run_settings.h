#pragma once
// The head of every report on a `reproduce` run (results.md, ablation.md, scale.md, and any
// other page on it): each setting that changes the run's figures, read from its results.json,
// so that two reports made differently never read the same.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ls {

// (setting, value) in a fixed order: preset, base model, data, seeds, hyperparameters, adapter
// learning rate, batching, LoRA, study choices, results run, cut short. A key the record lacks
// (results of an older lorasum) gives no line; "cut short" appears only on a cut-short run.
std::vector<std::pair<std::string, std::string>> run_settings_lines(const nlohmann::json& results);

// The --max-steps / --eval-limit a cut-short run was made with ("" for a full run).
std::string cut_short_flags(const nlohmann::json& results);

// The lines as a Markdown list, after a bold "Cut short" warning when the run was.
std::string run_settings_markdown(const std::vector<std::pair<std::string, std::string>>& lines,
                                  const std::string& cut_short = "");

}  // namespace ls
