// How long the jobs of `reproduce --plan` would take on this machine: the plan's last line, and
// the time limits of its Slurm script.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "experiments/study/parallel_jobs.h"
#include "experiments/study/plan.h"
#include "tensor/io/progress.h"

namespace ls {

namespace {

constexpr int kProbeSteps = 2;  // after a warm-up step: seconds at GPT-2 Small's shapes

// Non-blank lines of the job's JSONL files: its examples, before any subsample.
int64_t count_examples(const LoraJob& job) {
  int64_t n = 0;
  for (const std::string& file : job.data) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);)
      n += line.find_first_not_of(" \t\r") != std::string::npos;
  }
  return static_cast<int64_t>(static_cast<double>(n) * job.subsample);
}

// Optimizer steps of a job, as the trainer counts them.
int64_t job_steps(const LoraJob& job) {
  const TrainOptions& t = job.train;
  int64_t micro = (count_examples(job) + t.batch - 1) / t.batch;
  int64_t steps = (t.epochs * micro + t.grad_accum - 1) / t.grad_accum;
  return t.max_steps > 0 ? std::min(steps, t.max_steps) : steps;
}

std::string token_words(double tokens) {
  if (tokens >= 1e6) return fmt::format("{:.2f} M", tokens / 1e6);
  if (tokens >= 1e3) return fmt::format("{:.1f} k", tokens / 1e3);
  return fmt::format("{:.0f}", tokens);
}

}  // namespace

PlanEstimate estimate_plan(const std::vector<const AdapterJob*>& jobs, const PretrainJob* pretrain,
                           const GPT2Config& config) {
  PlanEstimate e;
  if (pretrain) {  // full training of the base model: all its windows are full length
    const TrainOptions& t = pretrain->train;
    int64_t seq = std::min(t.seq_len, config.n_positions);
    double step = step_seconds(config, nullptr, t.batch, seq, kProbeSteps);
    e.tokens += static_cast<double>(t.max_steps * t.batch * seq);
    e.pretrain_seconds = static_cast<double>(t.max_steps) * step;
  }
  // Each job at its mean length when the base model (and so the tokenizer) exists, else at the
  // full sequence length (an upper bound); each shape timed once (its length rounded up to 8).
  bool tokenizer =
      !jobs.empty() && std::filesystem::exists(jobs.front()->job.model_dir + "/vocab.json");
  std::map<std::pair<int64_t, int64_t>, double> step_of;  // (batch, length) → seconds
  for (const AdapterJob* j : jobs) {
    const TrainOptions& t = j->job.train;
    int64_t seq = std::min(t.seq_len, config.n_positions);
    if (tokenizer && t.batching == BatchOrder::by_length)
      seq = std::min(seq, (mean_example_length(j->job, config.n_positions) + 7) / 8 * 8);
    int64_t batch = t.batch * t.grad_accum, steps = job_steps(j->job);
    auto [at, fresh] = step_of.try_emplace({batch, seq}, 0.0);
    if (fresh) at->second = step_seconds(config, &j->job.lora, batch, seq, kProbeSteps);
    e.tokens += static_cast<double>(steps * batch * seq);
    e.job_seconds.push_back(static_cast<double>(steps) * at->second);
  }
  return e;
}

std::string PlanEstimate::line() const {
  double seconds = pretrain_seconds;
  for (double s : job_seconds) seconds += s;
  double rate = seconds > 0 ? tokens / seconds : 0.0;
  return fmt::format(
      "# estimated total: {} on this machine ({} tokens at {:.0f} tokens/s; "
      "training only, one job at a time on all cores)",
      format_duration(seconds), token_words(tokens), rate);
}

}  // namespace ls
