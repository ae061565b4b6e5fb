#pragma once
// The pieces of `reproduce --plan`: the jobs as shell commands, an estimate of their time, and
// the three ways of printing them (a command a line, a GNU parallel script, a Slurm driver).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiments/study/reproduce.h"

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
  bool bf16 = false;           // some job multiplies in bf16
  bool emulated_bf16 = false;  // … on a CPU without native bf16 (tensor/gemm_library.h)
  // "# estimated total: <duration> on this machine (<tokens> tokens at <rate> tokens/s; …)",
  // naming bf16 when a job uses it, and saying so when it is emulated here.
  std::string line() const;
};
// Seconds of one training step of this shape in this precision: a LoRA step, or with no
// `lora` a full one (pretraining).
using StepProbe =
    std::function<double(const LoraConfig* lora, int64_t batch, int64_t seq, Precision precision)>;
// The jobs' training tokens at the step time `probe` gives each shape and precision, once per
// shape; by default measured here (a few steps on random weights in the job's precision).
PlanEstimate estimate_plan(const std::vector<const AdapterJob*>& jobs, const PretrainJob* pretrain,
                           const GPT2Config& config, const StepProbe& probe = {});

enum class PlanFormat { shell, parallel, slurm };
// "shell", "parallel" or "slurm"; InputError names another.
PlanFormat parse_plan_format(const std::string& name);

// What --plan prints, in the order it must run.
struct Plan {
  std::string workdir;                   // where relative paths in the commands start
  std::string run_dir;                   // <run>: logs go to <run>/logs
  std::optional<std::string> pretrain;   // the base model's command, when it is to be trained
  std::vector<std::string> jobs;         // the pending adapter jobs' commands
  std::string evaluate;                  // reproduce --evaluate-only, once every job is done
  std::optional<PlanEstimate> estimate;  // none when there is nothing to train
  int workers = 1;                       // the parallel script's default jobs at once
  int cores = 1;                         // of this machine, where the estimate was measured
};

// The reproduce command that evaluates what the plan trained: this run's flags, with
// --evaluate-only, so that a job left unfinished is named instead of trained.
std::string evaluate_command(const ReproduceOptions& options, const std::string& run_dir);

// The plan as `format` prints it.
std::string plan_text(const Plan& plan, PlanFormat format);

}  // namespace ls
