#pragma once
// The pieces of `reproduce --plan`: the jobs as shell commands and an estimate of their time.
#include <string>
#include <vector>

#include "experiments/reproduce.h"

namespace ls {

// As is when safe, else in single quotes.
std::string shell_quoted(const std::string& word);
// The words, each shell_quoted, joined by spaces.
std::string shell_command(const std::vector<std::string>& words);
// `lorasum train ...` of one adapter job, and its words after the program name.
std::vector<std::string> job_args(const AdapterJob& job);
std::string job_command(const AdapterJob& job, const std::string& binary);

// How long the plan's training would take on this machine, one job at a time on all cores.
struct PlanEstimate {
  double pretrain_seconds = 0.0;    // 0 when the base model is there
  std::vector<double> job_seconds;  // per adapter job, in the plan's order
  double tokens = 0.0;
  // "# estimated total: <duration> on this machine (<tokens> tokens at <rate> tokens/s; …)"
  std::string line() const;
};
// The jobs' training tokens at rates measured here (each shape a few steps on random weights).
PlanEstimate estimate_plan(const std::vector<const AdapterJob*>& jobs, const PretrainJob* pretrain,
                           const GPT2Config& config);

}  // namespace ls
