#pragma once
// The figures that a run's own JSON holds every number of: drawn from results.json,
// ablation.json or scale.json, so the runs write them and `lorasum plots --from DIR` redraws
// them, identically, from the committed JSON alone.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ls {

// plots/change_vs_cosine.svg of a reproduce run, from its results.json.
std::string change_vs_cosine_svg(const nlohmann::json& results);
// plots/ablation.svg, from ablation.json.
std::string ablation_svg(const nlohmann::json& ablation);
// The figures of `lorasum report`, from scale.json, as (file name, SVG): scale.svg (change %)
// and scale_cos.svg (RMS cosine) against its axis (base-model size or pretraining dose), and
// where the runs measured ξ, scale_xi.svg (ξ against the axis) and change_vs_xi.svg.
std::vector<std::pair<std::string, std::string>> scale_figures(const nlohmann::json& scale);

}  // namespace ls

namespace ls {

// Redraws, in run_dir, every figure its JSON holds the numbers of (results.json:
// change_vs_cosine; ablation.json: ablation; scale.json: scale_figures), then its
// report.html; returns the paths written. Figures drawn from adapters (the heatmaps, the
// training curves) are left as they are. InputError when the folder holds none of the three.
std::vector<std::string> redraw_figures(const std::string& run_dir);

}  // namespace ls
