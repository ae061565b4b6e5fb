// lorasum train (a LoRA adapter) and lorasum pretrain (a small GPT-2 from scratch).
#include <fmt/format.h>

#include <sstream>

#include "experiments/app/pretrain_dose.h"
#include "experiments/app/training.h"
#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/data_flags.h"
#include "experiments/cli/precision_flag.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace ls::cli {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// The training flags both subcommands share.
void add_training_flags(CLI::App* cmd, TrainOptions& o, std::string& decay) {
  cmd->add_option("--lr", o.lr, "Peak learning rate (AdamW)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--epochs", o.epochs, "Passes over the training data")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--batch", o.batch, "Sequences per micro-batch")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--seq-len", o.seq_len, "Tokens per sequence (longer examples are truncated)")
      ->capture_default_str()
      ->check(in_range(2, 1 << 20));
  cmd->add_option("--warmup", o.warmup, "Linear warm-up steps")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--schedule", decay, "Decay after warm-up: linear, cosine or constant")
      ->capture_default_str()
      ->check(CLI::IsMember({"linear", "cosine", "constant"}));
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW decoupled weight decay")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--grad-clip", o.grad_clip, "Global gradient-norm limit (0 = off)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--grad-accum", o.grad_accum, "Micro-batches per optimizer step")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--max-steps", o.max_steps, "Stop after this many steps (0 = all epochs)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed", o.seed, "Seed for initialisation, shuffling and dropout")
      ->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "Steps between evaluations (0 = at the end)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_flag("--keep-best", o.keep_best, "Keep the parameters with the best evaluation loss");
  cmd->add_option("--checkpoint-every", o.checkpoint_every, "Steps between checkpoints")
      ->capture_default_str()
      ->check(at_least(0));
  auto* resume =
      cmd->add_flag("--resume", o.resume, "Continue from the checkpoint in the output folder");
  cmd->add_flag("--force", o.force,
                "Start over when the output folder holds an interrupted run's checkpoint "
                "(discarding it)")
      ->excludes(resume);
  add_precision_flag(cmd, o.precision);
  cmd->add_option_function<int>(
         "--threads", [](const int& n) { set_num_threads(n); },
         "Threads (0 = all cores; the result is the same on any count)")
      ->check(at_least(0));
  // A callback, not a "!--no-progress" flag, whose help would show a stray {false}.
  cmd->add_flag_callback(
      "--no-progress", [&o] { o.progress = false; }, "No progress bar");
}

// The adapter's shape: rank, alpha, targets, dropout, rsLoRA.
void add_adapter_flags(CLI::App* cmd, LoraConfig& lora, std::string& targets) {
  cmd->add_option("--rank", lora.r, "LoRA rank r")->capture_default_str()->check(in_range(1, 4096));
  // An alpha of 0 scales the adapter to nothing: it would train, save, and change nothing.
  cmd->add_option("--alpha", lora.alpha, "LoRA alpha (scaling = alpha / r)")
      ->capture_default_str()
      ->check(kFinite)
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            double v = 1;
            return detail::parse_number(text, v) && v == 0
                       ? "must not be 0 (scaling = alpha / r would switch the adapter off)"
                       : "";
          },
          "NONZERO"));
  cmd->add_option("--targets", targets,
                  "Comma-separated module names, matched as PEFT does (a full name or its ending, "
                  "e.g. c_attn, c_proj, c_fc, mlp.c_proj)")
      ->capture_default_str();
  cmd->add_option("--dropout", lora.dropout, "Dropout on the LoRA input")
      ->capture_default_str()
      ->check(in_range(0.0, 0.99));
  cmd->add_flag("--rslora", lora.use_rslora, "Scale by alpha / sqrt(r) (rsLoRA)");
}

}  // namespace

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a LoRA adapter (PEFT format) on QA/text data");
  static LoraJob job;
  static DataFlags data_flags;
  static std::string targets = "c_attn,c_proj", decay = "linear", layout = "joined",
                     batching = "by-length";
  static uint64_t init_seed = 0;
  job.train.lr = 2e-4f;
  cmd->add_option("--model", job.model_dir, "Base model folder (with tokenizer)")->required();
  cmd->add_option("--data", job.data,
                  "QA JSONL or plain-text file (see --format); repeat to mix several")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--eval-data", job.eval_data, "Held-out file for evaluation")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", job.out, "Adapter folder to write")->required();
  add_adapter_flags(cmd, job.lora, targets);
  add_data_flags(cmd, data_flags);
  cmd->add_option("--label-layout", layout,
                  "joined: one causal text per example; aligned: the study's code (answer ids as "
                  "labels at the question's positions, each padded to --seq-len, padding counted)")
      ->capture_default_str()
      ->check(CLI::IsMember({"joined", "aligned"}));
  cmd->add_option("--subsample", job.subsample,
                  "Train on this seeded fraction of the (mixed) data, as the study's random_split")
      ->capture_default_str()
      ->check(kFinite);
  cmd->add_flag("--train-head-copy", job.train_head_copy,
                "Also train a copy of the LM head that the saved adapter leaves out (the study's "
                "modules_to_save)");
  auto* init = cmd->add_option("--init-seed", init_seed,
                               "Seed of the LoRA A initialisation (default: --seed)");
  add_training_flags(cmd, job.train, decay);
  cmd->add_option("--batching", batching,
                  "by-length: micro-batches of similar length in a seeded random order (little "
                  "padding); random: slices of a seeded shuffle")
      ->capture_default_str()
      ->check(CLI::IsMember({"by-length", "random"}));
  cmd->callback([init] {
    job.train.batching = parse_batching(batching);
    job.lora.target_modules = split_commas(targets);
    job.format = data_flags.resolved();
    job.aligned_length = layout == "aligned" ? job.train.seq_len : 0;
    if (init->count() > 0) job.init_seed = init_seed;
    job.train.decay = parse_decay(decay);
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
  static PretrainJob job;
  static std::string decay = "cosine";
  job.config = GPT2Config::preset("tiny");
  job.train.lr = 1e-3f;
  job.train.weight_decay = 0.0f;
  cmd->add_option("--data", job.corpus, "Plain-text corpus")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", job.out, "Model folder to write")->required();
  cmd->add_option("--vocab-size", job.vocab_size, "BPE vocabulary size")
      ->capture_default_str()
      ->check(in_range(257, 1 << 20));
  cmd->add_option("--n-layer", job.config.n_layer, "Transformer blocks")->capture_default_str();
  cmd->add_option("--n-head", job.config.n_head, "Attention heads")->capture_default_str();
  cmd->add_option("--n-embd", job.config.n_embd, "Embedding width")->capture_default_str();
  cmd->add_option("--n-positions", job.config.n_positions, "Context length")->capture_default_str();
  static float dropout = job.config.resid_pdrop;
  cmd->add_option("--dropout", dropout, "Residual and embedding dropout")
      ->capture_default_str()
      ->check(in_range(0.0, 0.99));
  add_training_flags(cmd, job.train, decay);
  static std::string tokens, save_at;
  cmd->add_option("--tokens", tokens,
                  "Stop after this many tokens (e.g. 32M; replaces --epochs: the corpus repeats "
                  "as often as that needs)");
  cmd->add_option("--save-at", save_at,
                  "Token counts (e.g. 1M,3M,10M) at which to keep a snapshot of this run, each a "
                  "complete model folder OUT-tokensN beside --out");
  cmd->callback([] {
    if (!tokens.empty()) job.tokens = parse_token_count(tokens, "--tokens");
    if (!save_at.empty()) job.save_at = parse_token_counts(save_at, "--save-at");
    job.train.decay = parse_decay(decay);
    job.train.label = "pretrain";
    job.config.resid_pdrop = job.config.embd_pdrop = dropout;
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
