// lorasum train (a LoRA adapter) and lorasum pretrain (a small GPT-2 from scratch).
#include <fmt/format.h>

#include "experiments/app/job_options.h"
#include "experiments/app/training.h"
#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/option_flags.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace ls::cli {

namespace {

// How many threads: the process's, not the job's (the result is the same on any count).
void add_threads_flag(CLI::App* cmd) {
  cmd->add_option_function<int>(
         "--threads", [](const int& n) { set_num_threads(n); },
         "Threads (0 = all cores; the result is the same on any count)")
      ->check(at_least(0));
}

}  // namespace

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a LoRA adapter (PEFT format) on QA/text data");
  static LoraJob job = default_lora_job();
  cmd->add_option("--model", job.model_dir, "Base model folder (with tokenizer)")->required();
  cmd->add_option("--data", job.data,
                  "QA JSONL or plain-text file (see --format); repeat to mix several")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--eval-data", job.eval_data, "Held-out file for evaluation")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", job.out, "Adapter folder to write")->required();
  add_option_flags(cmd, lora_job_options(), job);
  add_threads_flag(cmd);
  cmd->callback([] {
    job.train.label = "train " + job.out;
    TrainResult r = run_lora_job(job);
    // --resume of a finished folder said so and has nothing to print; under mpirun rank 0 speaks.
    if (r.steps == 0 || !world::is_root()) return;
    fmt::print("adapter: {}\nsteps: {}\nfinal_loss: {:.4f}\ntokens_per_s: {:.0f}\n", job.out,
               r.steps, r.final_loss, r.tokens_per_s);
    if (r.best_eval_loss >= 0) fmt::print("eval_loss: {:.4f}\n", r.best_eval_loss);
  });
}

void add_pretrain(CLI::App& app) {
  auto* cmd = app.add_subcommand("pretrain",
                                 "Train a small GPT-2 (and its BPE) from scratch on a text corpus");
  static PretrainJob job = default_pretrain_job();
  cmd->add_option("--data", job.corpus, "Plain-text corpus")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", job.out, "Model folder to write")->required();
  add_option_flags(cmd, pretrain_job_options(), job);
  add_threads_flag(cmd);
  cmd->callback([] {
    job.train.label = "pretrain";
    job.config.validate("pretrain flags");
    if (job.train.seq_len > job.config.n_positions)  // else cut to n_positions without a word
      input_error(
          "--seq-len {} is longer than --n-positions {}, the most the model can see; lower "
          "--seq-len or raise --n-positions",
          job.train.seq_len, job.config.n_positions);
    TrainResult r = run_pretrain_job(job);
    if (r.steps == 0 || !world::is_root()) return;  // as in train
    fmt::print(
        "model: {}\nsteps: {}\nfinal_loss: {:.4f}\nvalid_loss: {:.4f}\ntokens_per_s: {:.0f}\n",
        job.out, r.steps, r.final_loss, r.best_eval_loss, r.tokens_per_s);
  });
}

}  // namespace ls::cli
