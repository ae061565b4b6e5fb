// lorasum bench: speed of training, evaluation and generation on random weights.
#include <fmt/format.h>

#include "experiments/bench/bench.h"
#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/precision_flag.h"
#include "tensor/distributed.h"

namespace ls::cli {

void add_bench(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("bench",
                         "Time LoRA/full training steps, eval forward, generation, "
                         "adapter merging and similarity, and peak memory on random weights");
  static BenchOptions o;
  static bool json = false;
  cmd->add_option("--config", o.config, "Model preset: gpt2, gpt2-medium, tiny, micro, …")
      ->capture_default_str();
  cmd->add_option("--batch", o.batch, "Training batch")->capture_default_str()->check(at_least(1));
  cmd->add_option("--seq", o.seq, "Training sequence length")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--eval-batch", o.eval_batch, "Eval batch")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--eval-seq", o.eval_seq, "Eval sequence length")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--steps", o.steps, "Timed repetitions (after one warm-up)")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--threads", o.threads, "Threads (0 = all cores)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--targets", o.targets,
                  "LoRA target modules; c_attn alone by default, as in the PyTorch reference "
                  "(train's default is c_attn,c_proj)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rank", o.rank, "LoRA rank")->capture_default_str()->check(at_least(1));
  cmd->add_option("--alpha", o.alpha, "LoRA alpha")->capture_default_str();
  cmd->add_option("--dropout", o.dropout,
                  "LoRA dropout in the LoRA step (0, as the PyTorch reference; a job's setting to "
                  "compare with its logged tokens/s)")
      ->capture_default_str()
      ->check(in_range(0.0, 0.99));
  cmd->add_option("--gen-tokens", o.gen_tokens, "Tokens to generate")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option(
         "--only", o.only,
         "Only these figures: lora_train_step, gradient_sum (under mpirun), eval_forward, "
         "generate, full_train_step, merge, similarity, interference (the data-aware predictors of "
         "one pair)")
      ->delimiter(',')
      ->check(CLI::IsMember({"lora_train_step", "gradient_sum", "eval_forward", "generate",
                             "full_train_step", "merge", "similarity", "interference"}));
  add_precision_flag(cmd, o.precision);
  cmd->add_flag("--json", json, "Print one JSON object");
  cmd->callback([] {
    BenchReport r = run_bench(o);
    if (world::is_root()) fmt::print("{}\n", json ? bench_json(r) : bench_table(r));
  });
}

}  // namespace ls::cli
