// The option tables of the two training jobs (job_options.h).
#include <fmt/format.h>

#include "experiments/app/option_rows.h"
#include "experiments/app/pretrain_dose.h"

namespace ls {

namespace {

using namespace option_rows;
using T = TrainOptions;

// The options that change what a training run computes: its record's "train" part.
OptionTable<T> training_options() {
  return {
      row<T>(
          "--lr", "lr", "Peak learning rate (AdamW)", OptionKind::real,
          [](auto& t) -> auto& { return t.lr; }, kPositive),
      row<T>(
          "--epochs", "epochs", "Passes over the training data", OptionKind::integer,
          [](auto& t) -> auto& { return t.epochs; }, kAtLeast1),
      row<T>(
          "--batch", "batch", "Sequences per micro-batch", OptionKind::integer,
          [](auto& t) -> auto& { return t.batch; }, kAtLeast1),
      row<T>("--seq-len", "seq_len", "Tokens per sequence (longer examples are truncated)",
             OptionKind::integer, [](auto& t) -> auto& { return t.seq_len; }, {2, 1 << 20}),
      row<T>(
          "--warmup", "warmup", "Linear warm-up steps", OptionKind::integer,
          [](auto& t) -> auto& { return t.warmup; }, kAtLeast0),
      choice<T>(
          "--schedule", "schedule", "Decay after warm-up: linear, cosine or constant",
          {"linear", "cosine", "constant"}, [](auto& t) -> auto& { return t.decay; }, decay_name,
          parse_decay),
      row<T>(
          "--weight-decay", "weight_decay", "AdamW decoupled weight decay", OptionKind::real,
          [](auto& t) -> auto& { return t.weight_decay; }, kAtLeast0),
      row<T>(
          "--grad-clip", "grad_clip", "Global gradient-norm limit (0 = off)", OptionKind::real,
          [](auto& t) -> auto& { return t.grad_clip; }, kAtLeast0),
      row<T>(
          "--grad-accum", "grad_accum", "Micro-batches per optimizer step", OptionKind::integer,
          [](auto& t) -> auto& { return t.grad_accum; }, kAtLeast1),
      row<T>(
          "--max-steps", "max_steps", "Stop after this many steps (0 = all epochs)",
          OptionKind::integer, [](auto& t) -> auto& { return t.max_steps; }, kAtLeast0),
      row<T>(
          "--seed", "seed", "Seed for initialisation, shuffling and dropout", OptionKind::count,
          [](auto& t) -> auto& { return t.seed; }),
      row<T>(
          "--keep-best", "keep_best", "Keep the parameters with the best evaluation loss",
          OptionKind::on_off, [](auto& t) -> auto& { return t.keep_best; }),
      choice<T>(
          "--precision", "precision",
          "Matrix products in f32, or bf16 inputs with f32 sums (weights, optimizer state, "
          "softmax, layer norm and loss stay f32)",
          {"f32", "bf16"}, [](auto& t) -> auto& { return t.precision; }, precision_name,
          [](const std::string& name) { return *parse_precision(name); }),
  };
}

// The options that steer a run without changing its result: not in the record.
OptionTable<T> run_options() {
  OptionTable<T> table = {
      row<T>(
          "--eval-every", "", "Steps between evaluations (0 = at the end)", OptionKind::integer,
          [](auto& t) -> auto& { return t.eval_every; }, kAtLeast0),
      row<T>(
          "--checkpoint-every", "", "Steps between checkpoints", OptionKind::integer,
          [](auto& t) -> auto& { return t.checkpoint_every; }, kAtLeast0),
      row<T>(
          "--resume", "", "Continue from the checkpoint in the output folder", OptionKind::on_off,
          [](auto& t) -> auto& { return t.resume; }),
      row<T>(
          "--force", "",
          "Start over when the output folder holds an interrupted run's checkpoint "
          "(discarding it)",
          OptionKind::on_off, [](auto& t) -> auto& { return t.force; }),
  };
  table.back().check.excludes = "--resume";
  // A switch that turns the member off: its value is the member's opposite.
  JobOption<T> quiet{"--no-progress", "",     "No progress bar", OptionKind::on_off, {}, {},
                     nullptr,         nullptr};
  quiet.get = [](const T& t) -> json { return !t.progress; };
  quiet.set = [](T& t, const json& v) { t.progress = !v.get<bool>(); };
  table.push_back(quiet);
  return table;
}

template <class Job>
void append_training(OptionTable<Job>& table) {
  auto train = [](auto& job) -> auto& { return job.train; };
  append_nested(table, training_options(), "train.", train);
  append_nested(table, run_options(), "", train);
}

using L = LoraJob;

// The adapter's shape: rank, alpha, targets, dropout, rsLoRA.
void append_adapter(OptionTable<L>& table) {
  using C = LoraConfig;
  OptionCheck nonzero{-kInf, kInf, false, true, "scaling = alpha / r would switch the adapter off"};
  OptionTable<C> adapter = {
      row<C>("--rank", "r", "LoRA rank r", OptionKind::integer,
             [](auto& c) -> auto& { return c.r; }, {1, 4096}),
      row<C>(
          "--alpha", "alpha", "LoRA alpha (scaling = alpha / r)", OptionKind::real,
          [](auto& c) -> auto& { return c.alpha; }, nonzero),
      row<C>(
          "--targets", "targets",
          "Comma-separated module names, matched as PEFT does (a full name or its ending, "
          "e.g. c_attn, c_proj, c_fc, mlp.c_proj)",
          OptionKind::list, [](auto& c) -> auto& { return c.target_modules; }),
      row<C>(
          "--target-regex", "target_regex",
          "A regular expression over full module names, matched whole, instead of --targets",
          OptionKind::text, [](auto& c) -> auto& { return c.target_regex; }),
      row<C>("--dropout", "dropout", "Dropout on the LoRA input", OptionKind::real,
             [](auto& c) -> auto& { return c.dropout; }, {0, 0.99}),
      row<C>(
          "--rslora", "rslora", "Scale by alpha / sqrt(r) (rsLoRA)", OptionKind::on_off,
          [](auto& c) -> auto& { return c.use_rslora; }),
  };
  append_nested(
      table, adapter, "lora.", [](auto& job) -> auto& { return job.lora; });
}

// How the job's data are read and sampled.
void append_data(OptionTable<L>& table) {
  append_nested(
      table, text_format_options(), "text.", [](auto& job) -> auto& { return job.format; });
  table.push_back(choice<L>(
      "--label-layout", "text.label_layout",
      "joined: one causal text per example; aligned: the study's code (answer ids as labels at "
      "the question's positions, each padded to --seq-len, padding counted)",
      {"joined", "aligned"}, [](auto& j) -> auto& { return j.aligned_labels; },
      [](bool aligned) { return aligned ? "aligned" : "joined"; },
      [](const std::string& name) { return name == "aligned"; }));
  table.push_back(
      row<L>("--subsample", "subsample",
             "Train on this seeded fraction of the (mixed) data, as the study's random_split",
             OptionKind::real64, [](auto& j) -> auto& { return j.subsample; },
             {-kInf, kInf, false, true}));
  table.push_back(choice<L>(
      "--batching", "train.batching",
      "by-length: micro-batches of similar length in a seeded random order (little padding); "
      "random: slices of a seeded shuffle",
      {"by-length", "random"}, [](auto& j) -> auto& { return j.train.batching; }, batching_name,
      parse_batching));
}

// What the study's code trained besides the adapter, and how it initialised it.
void append_extras(OptionTable<L>& table) {
  table.push_back(row<L>(
      "--train-head-copy", "head_copy",
      "Also train a copy of the LM head that the saved adapter leaves out "
      "(the study's modules_to_save)",
      OptionKind::on_off, [](auto& j) -> auto& { return j.train_head_copy; }));
  JobOption<L> init{
      "--init-seed",     "init_seed", "Seed of the LoRA A initialisation (default: --seed)",
      OptionKind::count, {},          {},
      nullptr,           nullptr};
  init.get = [](const L& j) -> json { return j.init_seed ? json(*j.init_seed) : json(nullptr); };
  init.set = [](L& j, const json& v) {
    if (v.is_null())
      j.init_seed.reset();
    else
      j.init_seed = v.get<uint64_t>();
  };
  table.push_back(init);
}

using P = PretrainJob;

// The model a pretraining job makes, and how much it reads.
OptionTable<P> model_options() {
  auto positions = [](auto& j) -> auto& { return j.config.n_positions; };
  OptionTable<P> table = {
      row<P>("--vocab-size", "vocab_size", "BPE vocabulary size", OptionKind::integer,
             [](auto& j) -> auto& { return j.vocab_size; }, {257, 1 << 20}),
      row<P>(
          "--n-layer", "model.n_layer", "Transformer blocks", OptionKind::integer,
          [](auto& j) -> auto& { return j.config.n_layer; }),
      row<P>(
          "--n-head", "model.n_head", "Attention heads", OptionKind::integer,
          [](auto& j) -> auto& { return j.config.n_head; }),
      row<P>(
          "--n-embd", "model.n_embd", "Embedding width", OptionKind::integer,
          [](auto& j) -> auto& { return j.config.n_embd; }),
      row<P>("--n-positions", "model.n_positions", "Context length", OptionKind::integer,
             positions),
      row<P>("--validation-fraction", "validation_fraction",
             "Fraction of the corpus's windows held out for the validation loss",
             OptionKind::real64, [](auto& j) -> auto& { return j.validation_fraction; },
             {0, 0.5, true}),
  };
  // Unset (null in the record) when --epochs and --max-steps set the length.
  JobOption<P> tokens{"--tokens",
                      "tokens",
                      "Stop after this many tokens (e.g. 32M; replaces --epochs: the corpus "
                      "repeats as often as that needs)",
                      OptionKind::tokens,
                      {},
                      {},
                      nullptr,
                      nullptr};
  tokens.get = [](const P& j) -> json { return j.tokens > 0 ? json(j.tokens) : json(nullptr); };
  tokens.set = [](P& j, const json& v) { j.tokens = v.is_null() ? 0 : v.get<int64_t>(); };
  table.push_back(tokens);
  // One flag for both dropouts the model applies, which pretraining keeps equal
  // (run_pretrain_job checks); attention-probability dropout is not applied (GPT2Config).
  JobOption<P> dropout{"--dropout",
                       "model.dropout",
                       "Residual and embedding dropout",
                       OptionKind::real,
                       {},
                       {0, 0.99},
                       nullptr,
                       nullptr};
  dropout.get = [](const P& j) -> json { return decimal(j.config.resid_pdrop); };
  dropout.set = [](P& j, const json& v) {
    j.config.resid_pdrop = j.config.embd_pdrop = v.get<float>();
  };
  table.push_back(dropout);
  return table;
}

// The snapshots a pretraining run keeps on its way: not in the record of the run.
JobOption<P> save_at_option() {
  JobOption<P> o{"--save-at",
                 "",
                 "Token counts (e.g. 1M,3M,10M) at which to keep a snapshot of this run, each a "
                 "complete model folder OUT-tokensN beside --out",
                 OptionKind::text,
                 {},
                 {},
                 nullptr,
                 nullptr};
  o.get = [](const P& j) -> json { return fmt::format("{}", fmt::join(j.save_at, ",")); };
  o.set = [](P& j, const json& v) {
    std::string text = v.get<std::string>();
    j.save_at = text.empty() ? std::vector<int64_t>{} : parse_token_counts(text, "--save-at");
  };
  return o;
}

}  // namespace

const OptionTable<PretrainJob>& pretrain_job_options() {
  static const OptionTable<P> table = [] {
    OptionTable<P> t = model_options();
    t.push_back(save_at_option());
    append_training(t);
    return t;
  }();
  return table;
}

PretrainJob default_pretrain_job() {
  PretrainJob job;
  job.config = GPT2Config::preset("tiny");
  job.train.lr = 1e-3f;
  job.train.weight_decay = 0.0f;
  job.train.decay = LrSchedule::Decay::Cosine;
  return job;
}

const OptionTable<LoraJob>& lora_job_options() {
  static const OptionTable<L> table = [] {
    OptionTable<L> t;
    append_adapter(t);
    append_data(t);
    append_extras(t);
    append_training(t);
    return t;
  }();
  return table;
}

LoraJob default_lora_job() {
  LoraJob job;
  job.train.lr = 2e-4f;
  return job;
}

}  // namespace ls
