#pragma once
// Independent adapter jobs at once: one child process per job, each on one thread, when that
// trains more tokens per second on this machine than one job on every core. Results are the
// same either way (every kernel gives the same bits on any thread count).
#include <string>
#include <vector>

#include "gpt2/config.h"
#include "lora/config.h"

namespace ls {

// One `lorasum` command, run as a child process with its output going to `log`.
struct ChildJob {
  std::string name;               // as progress and errors name it
  std::vector<std::string> args;  // after the program name
  std::string log;
};

// Runs every job, at most `workers` at once, as this same program with the job's arguments.
// When one fails, the running ones finish, no new one starts, and InputError names the job and
// shows the end of its log. On SIGINT/SIGTERM the children get the signal too.
void run_child_jobs(const std::vector<ChildJob>& jobs, int workers, bool progress);

// Median seconds of a training step on random weights of this shape, after one warm-up step (the
// median, because a shared machine stalls a step now and then): a LoRA step, or with no
// `lora` a full one (all parameters train, as in pretraining).
double step_seconds(const GPT2Config& config, const LoraConfig* lora, int64_t batch, int64_t seq,
                    int steps);

struct WorkerChoice {
  int workers = 1;       // jobs at once
  double speedup = 1.0;  // measured tokens/s of one job per core over one job on every core
  bool measured = false;
};

// LoRA steps at the jobs' shapes on random weights, one job on every core against one job per
// core at once; more workers only when they are more than 10 % faster. Not measured (1
// worker) on one core, or when one step is so slow (large models) that the probe would cost
// more than it could save and every core is kept busy by one job's large products anyway.
WorkerChoice measure_job_workers(const GPT2Config& model, const LoraConfig& lora, int64_t batch,
                                 int64_t seq);

}  // namespace ls
