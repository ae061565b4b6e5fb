#pragma once
// `lorasum report --runs RUN... --out DIR`: finished `reproduce` runs on base models of several
// sizes, side by side. Writes scale.md, scale.json and plots/scale.svg (change % per pair
// against base-model parameters, the study's figures at GPT-2 Small's size) and
// plots/scale_cos.svg (RMS cosine per pair); returns the markdown table. Runs that differ in
// anything but the base model (data, hyperparameters, study choices, limits) are refused with
// the differences named, unless allow_mixed, which lists them in the report.
#include <string>
#include <vector>

namespace ls {

std::string write_scale_report(const std::vector<std::string>& runs, const std::string& out,
                               bool allow_mixed);

}  // namespace ls
