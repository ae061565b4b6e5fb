// How long the jobs of `reproduce --plan` would take on this machine: the plan's last line, and
// the time limits of its Slurm script.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "experiments/study/parallel_jobs.h"
#include "experiments/study/plan.h"
#include "tensor/gemm_library.h"
#include "tensor/io/progress.h"
#include "tensor/precision.h"

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
                           const GPT2Config& config, const StepProbe& probe) {
  // A measured step runs its products in the job's precision, as the job will.
  StepProbe measure =
      probe ? probe
            : [&config](const LoraConfig* lora, int64_t batch, int64_t seq, Precision precision) {
                PrecisionScope scope(precision);
                return step_seconds(config, lora, batch, seq, kProbeSteps);
              };
  PlanEstimate e;
  auto note_precision = [&e](Precision p) { e.bf16 |= p == Precision::bf16; };
  if (pretrain) {  // full training of the base model: all its windows are full length
    const TrainOptions& t = pretrain->train;
    int64_t seq = std::min(t.seq_len, config.n_positions);
    double step = measure(nullptr, t.batch, seq, t.precision);
    e.tokens += static_cast<double>(t.max_steps * t.batch * seq);
    e.pretrain_seconds = static_cast<double>(t.max_steps) * step;
    note_precision(t.precision);
  }
  // Each job at its mean length when the base model (and so the tokenizer) exists, else at the
  // full sequence length (an upper bound); each shape timed once (its length rounded up to 8).
  bool tokenizer =
      !jobs.empty() && std::filesystem::exists(jobs.front()->job.model_dir + "/vocab.json");
  std::map<std::tuple<int64_t, int64_t, Precision>, double> step_of;  // → seconds
  for (const AdapterJob* j : jobs) {
    const TrainOptions& t = j->job.train;
    int64_t seq = std::min(t.seq_len, config.n_positions);
    if (tokenizer && t.batching == BatchOrder::by_length)
      seq = std::min(seq, (mean_example_length(j->job, config.n_positions) + 7) / 8 * 8);
    int64_t batch = t.batch * t.grad_accum, steps = job_steps(j->job);
    auto [at, fresh] = step_of.try_emplace({batch, seq, t.precision}, 0.0);
    if (fresh) at->second = measure(&j->job.lora, batch, seq, t.precision);
    e.tokens += static_cast<double>(steps * batch * seq);
    e.job_seconds.push_back(static_cast<double>(steps) * at->second);
    note_precision(t.precision);
  }
  e.emulated_bf16 = e.bf16 && !native_bf16();
  return e;
}

std::string PlanEstimate::line() const {
  double seconds = pretrain_seconds;
  for (double s : job_seconds) seconds += s;
  double rate = seconds > 0 ? tokens / seconds : 0.0;
  // Said plainly, since --precision bf16 suggests a speed-up that such a CPU does not give.
  std::string emulated =
      emulated_bf16 ? "; bf16 is emulated here (this CPU has no native bf16: float32 products of "
                      "the rounded inputs), so it is no faster than f32"
                    : "";
  return fmt::format(
      "# estimated total: {} on this machine ({} tokens at {:.0f} tokens/s{}; "
      "training only, one job at a time on all cores{})",
      format_duration(seconds), token_words(tokens), rate, bf16 ? " in bf16" : "", emulated);
}

}  // namespace ls
