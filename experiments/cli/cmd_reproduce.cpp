// lorasum reproduce: the study, end to end.
#include "experiments/app/pretrain_dose.h"
#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/precision_flag.h"
#include "experiments/study/compositions.h"
#include "experiments/study/reproduce.h"

namespace ls::cli {

namespace {

// What the flags fill: the options, and the two flags parsed from words once all are read.
struct ReproduceFlags {
  ReproduceOptions o;
  std::string choices = "none";
  std::string batching = "by-length";
  std::string pretrain_tokens;
};

// What the study is: preset, inputs, seeds, hyperparameters, choices, configurations.
void add_study_flags(CLI::App* cmd, ReproduceFlags& f) {
  cmd->add_option(
         "--preset", f.o.preset,
         "tiny (embedded data, ~3 min on 2 cores), smoke (seconds), gpt2-shallow (GPT-2 Small's "
         "width on 3 layers, ~50 min of pretraining), mid (gpt2-shallow at width 384), "
         "gpt2-small (needs --model and --data)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tiny", "smoke", "mid", "gpt2-shallow", "gpt2-small"}));
  cmd->add_option(
      "--out", f.o.out,
      "Run folder (default runs/<preset>-<digest of the settings that change the figures>)");
  cmd->add_option("--model", f.o.model_dir,
                  "Base model folder (default: pretrained on the general corpus, cached)");
  cmd->add_option(
         "--data", f.o.data_dir,
         "Folder with <domain>/{train,test}.jsonl for math, medicine, finance (default: generated)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--general", f.o.general,
                  "Plain-text corpus to pretrain the base model on (default: generated)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--pretrain-tokens", f.pretrain_tokens,
                  "Tokens to pretrain the base model on (e.g. 32M; default: the preset's "
                  "budget, printed with its tokens per parameter); another dose is another base "
                  "model and other adapters");
  cmd->add_option("--seeds", f.o.seeds, "Independent repetitions")
      ->capture_default_str()
      ->check(in_range(1, 100));
  cmd->add_option("--hparams", f.o.hparams,
                  "uniform (same for every adapter) or study (the study's per-adapter settings)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "study"}));
  cmd->add_option("--lr", f.o.lr,
                  "Adapter learning rate (default: the preset's; with --hparams study, replaces "
                  "the study's 5e-5)")
      ->check(positive());
  cmd->add_option("--study-choices", f.choices,
                  "Choices of the study's code to switch on: none, all, or a comma-separated list "
                  "of aligned-labels, eval-overlap, merged-subsample, discarded-lm-head, "
                  "shared-init, cproj-untransposed, half-scale (experiments/README.md)")
      ->capture_default_str();
  cmd->add_option("--batching", f.batching,
                  "Adapter micro-batches: by-length (similar lengths together, seeded random "
                  "order) or random (slices of a seeded shuffle, as the study's DataLoader)")
      ->capture_default_str()
      ->check(CLI::IsMember({"by-length", "random"}));
  cmd->add_flag("--ablation", f.o.ablation,
                "Run the configurations none, each choice alone, and all, sharing every job a "
                "choice does not change; writes ablation.md/.csv/.json and plots/ablation.svg");
  cmd->add_option(
      "--only", f.o.only,
      "Run just what one result needs: math+medicine, math+finance, medicine+finance or triple");
}

// How it runs: jobs at once, cut short, reuse, plans, evaluation only.
void add_run_flags(CLI::App* cmd, ReproduceOptions& o) {
  cmd->add_option("--jobs", o.jobs,
                  "Adapter jobs at once, each in its own process (0 = measure whether one job per "
                  "core beats one job on all cores; results are the same either way)")
      ->capture_default_str()
      ->check(in_range(0, 1024));
  cmd->add_option("--max-steps", o.max_steps,
                  "Stop each adapter job after this many steps (0 = the preset's epochs): a "
                  "cut-short run, e.g. to try gpt2-small end to end")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--eval-limit", o.eval_limit,
                  "Score only the first N examples of each test split (0 = all)")
      ->capture_default_str()
      ->check(at_least(0));
  add_precision_flag(cmd, o.precision);
  cmd->add_flag("--force", o.force,
                "Redo finished work instead of reusing it (work is reused only when its recorded "
                "settings equal this run's)");
  cmd->add_flag("--plan", o.plan,
                "Print the training jobs instead of running them, in the --format asked for; by "
                "default as shell commands (one per line; the first, pretraining, must finish "
                "before the rest), then a last line # estimated total: <duration> on this machine");
  cmd->add_option(
      "--format", o.format,
      "How --plan prints the jobs: shell (the default), parallel (a bash script: pretraining, the "
      "adapter jobs through GNU parallel, JOBS at once, then the evaluation; JOBS=4 bash plan.sh) "
      "or slurm (a bash script that submits the same stages to sbatch, each once the one before "
      "succeeded, the adapter jobs as an array)");
  cmd->add_flag_callback(
      "--no-compositions", [&o] { o.compositions = false; },
      "Leave out the compositions table (searched weights, TIES, DARE, SVD) and the "
      "non-additivity ξ, which cost several times the evaluation (an --ablation never has them)");
  cmd->add_option_function<std::string>(
      "--compositions",
      [&o](const std::string& names) { o.composed = parse_composed(names, "--compositions"); },
      "The compositions scored beside the naive sum: a comma-separated list of searched, ties, "
      "dare, svd (default all four), or none for ξ alone, without a compositions table");
  cmd->add_flag("--evaluate-only", o.evaluate_only,
                "Train nothing, only evaluate: every job must be finished (each job folder is "
                "locked while it is read); else stop with status 2 naming the first unfinished one "
                "and its command. The last stage of --format parallel and slurm");
}

}  // namespace

void add_reproduce(CLI::App& app, const char* argv0) {
  auto* cmd = app.add_subcommand(
      "reproduce",
      "Rerun the naive-LoRA-summation study: single and merged-data adapters, "
      "their sums, perplexities, RMS cosine, fit; tables, CSV/JSON and SVG plots");
  static ReproduceFlags f;
  f.o.binary = argv0;
  add_study_flags(cmd, f);
  add_run_flags(cmd, f.o);
  cmd->add_flag_callback(
      "--no-progress", [] { f.o.progress = false; }, "No progress bars");
  cmd->callback([] {
    f.o.choices = StudyChoices::parse(f.choices);
    f.o.batching = parse_batching(f.batching);
    if (!f.pretrain_tokens.empty())
      f.o.pretrain_tokens = parse_token_count(f.pretrain_tokens, "--pretrain-tokens");
    run_reproduce(f.o);
  });
}

}  // namespace ls::cli
