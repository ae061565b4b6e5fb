#pragma once
// The training loop shared by LoRA training and full pretraining: AdamW, warm-up + decay
// schedule, gradient accumulation and clipping, periodic evaluation, a progress bar, a loss
// log, atomic checkpoints and exact resumption.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gpt2/model.h"
#include "gpt2/training/data.h"
#include "nn/optim.h"
#include "tensor/precision.h"

namespace ls {

struct LogRow {
  int64_t step = 0;
  double epoch = 0.0;
  double loss = 0.0;
  double lr = 0.0;
  double tokens_per_s = 0.0;
  double eval_loss = -1.0;  // < 0 when not evaluated at this step
  double seconds = 0.0;     // the step's wall time (0 in checkpoints that predate it)
};

// From TrainOptions::seed: the batch order of epoch `index`, and all dropout of global
// micro-batch `index` (the seed Trainable::reseed_dropout gets).
inline constexpr SeedStream kEpochOrderSeeds{SeedStream::Rule::Mix, 0};
inline constexpr SeedStream kStepDropoutSeeds{SeedStream::Rule::Mix, 1};

struct TrainOptions {
  float lr = 2e-4f;
  int64_t epochs = 1;
  int64_t batch = 8;
  int64_t seq_len = 128;
  int64_t warmup = 0;
  float weight_decay = 0.01f;
  float grad_clip = 1.0f;  // 0 = off
  int64_t grad_accum = 1;
  uint64_t seed = 0;
  BatchOrder batching = BatchOrder::by_length;
  LrSchedule::Decay decay = LrSchedule::Decay::Linear;
  // Of every product in the steps and evaluations (tensor/precision.h); weights, optimizer
  // state and all other arithmetic stay f32.
  Precision precision = Precision::f32;
  int64_t max_steps = 0;            // stop after this many optimizer steps (0 = all epochs)
  int64_t eval_every = 0;           // steps between evaluations (0 = only at the end)
  bool keep_best = false;           // restore the parameters with the best evaluation loss
  int64_t checkpoint_every = 50;    // steps between checkpoints (0 = never)
  std::string checkpoint_path;      // "" = no checkpoints
  std::string checkpoint_settings;  // the caller's settings record, kept in each checkpoint
  bool resume = false;
  bool force = false;  // without resume: start over, discarding a checkpoint (the caller checks)
  bool progress = true;
  std::string label = "train";
  // Called by rank 0 after every optimizer step with the steps done and the log so far (in
  // training mode; it must leave the parameters as they are). Pretraining keeps snapshots here.
  std::function<void(int64_t steps, const std::vector<LogRow>& log)> after_step;

  // Throws InputError for values no run can use (NaN and infinity included).
  void validate() const;
};

// What is being trained: named parameters and how to reseed every dropout in play.
struct Trainable {
  std::vector<std::pair<std::string, Tensor>> params;
  std::function<void(uint64_t)> reseed_dropout;
};

struct TrainResult {
  int64_t steps = 0;
  double final_loss = 0.0;    // mean training loss of the last step
  double tokens_per_s = 0.0;  // counted tokens per second over the run
  double best_eval_loss = -1.0;
  std::vector<LogRow> log;
};

// The optimizer steps a run of these options takes over `examples` training examples: every
// epoch's micro-batches in groups of grad_accum, up to max_steps.
int64_t planned_steps(const TrainOptions& options, size_t examples);

// The checkpoint is left in place: the caller removes it once the final result is saved, so a
// kill between the last step and that save still resumes.
TrainResult train(GPT2& model, Trainable& trainable, const std::vector<Example>& train_set,
                  const std::vector<Example>& eval_set, const TrainOptions& options);

// The loss curve as CSV (train_log.csv in the job's output folder).
std::string log_csv(const std::vector<LogRow>& rows);

}  // namespace ls
