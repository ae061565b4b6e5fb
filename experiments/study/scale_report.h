#pragma once
// `lorasum report --runs RUN... --out DIR`: finished `reproduce` runs on base models of several
// sizes, or of one size at several pretraining doses, side by side. Writes scale.md,
// scale.json and plots/ (figures.h's scale_figures: change % and RMS cosine per pair against
// base-model parameters or tokens per parameter, the study's figures at GPT-2 Small's; ξ
// against the same axis and change % against ξ where the runs measured ξ); returns the
// markdown. Runs that differ in anything but the base model (data, hyperparameters, study
// choices, limits) are refused with the differences named, unless allow_mixed, which lists them
// in the report.
#include <string>
#include <vector>

namespace ls {

std::string write_scale_report(const std::vector<std::string>& runs, const std::string& out,
                               bool allow_mixed);

}  // namespace ls
