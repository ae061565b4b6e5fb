#pragma once
// The reproduction of "naive LoRA summation" (arXiv 2508.11985): single-domain adapters,
// merged-data adapters, their naive sums, perplexities, similarity, and the fit between RMS
// cosine and the perplexity change. See experiments/README.md for the protocol.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/app/training.h"
#include "experiments/study/study_choices.h"

namespace ls {

struct ReproduceOptions {
  std::string preset = "tiny";  // tiny, smoke or gpt2-small
  std::string out;              // run folder; default runs/<preset>-<settings digest>
  std::string model_dir;        // base model; default: pretrained by the run (cached)
  std::string data_dir;         // <domain>/{train,test}.jsonl; default: generated
  std::string general;          // pretraining corpus; default: generated
  int64_t pretrain_tokens = 0;  // > 0: pretrain the base model on this many tokens
  int seeds = 3;
  std::string hparams = "uniform";  // uniform or study
  float lr = 0.0f;                  // adapter learning rate; 0 = the preset's (or the study's)
  StudyChoices choices;             // the study's code's choices to switch on (--study-choices)
  BatchOrder batching = BatchOrder::by_length;  // of the adapter jobs (--batching)
  bool ablation = false;                        // run none, each choice alone, and all
  std::string only;        // one result: a pair ("math+medicine") or "triple"; "" = all
  int jobs = 0;            // adapter jobs at once (0 = measure which is faster)
  int64_t max_steps = 0;   // > 0: each adapter job stops after this many steps
  int64_t eval_limit = 0;  // > 0: the first this many examples of each test split
  Precision precision = Precision::f32;  // of the products in every training and evaluation
  bool force = false;                    // redo finished jobs
  bool plan = false;                     // print the jobs (as `format` says) and stop
  std::string format;          // how --plan prints them: shell (when ""), parallel or slurm
  bool evaluate_only = false;  // train nothing: refuse when a job is not finished
  bool compositions = true;    // the compositions table and ξ (never with --ablation)
  // The compositions scored beside the naive sum (of composition_methods() but "sum"); empty:
  // the table of the sum and ξ alone.
  std::vector<std::string> composed = {"searched", "ties", "dare", "svd"};
  std::string binary = "lorasum";  // how --plan names this program
  bool progress = true;
};

// Hyperparameters of one preset.
struct Preset {
  std::string name;
  // The base model the run pretrains when no --model is given.
  GPT2Config model;
  int64_t vocab_size = 2048;
  size_t corpus_bytes = 0;
  TrainOptions pretrain;
  // The generated QA data when no --data is given.
  int train_per_domain = 0, test_per_domain = 0;
  int pretrain_per_domain = 0;  // mixed into the generated pretraining corpus
  // Adapters ("uniform" hyperparameters).
  LoraConfig lora;
  TrainOptions adapter;
  int64_t eval_batch = 16;
};
Preset find_preset(const std::string& name);

// The domains of the study, in its order.
const std::vector<std::string>& study_domains();

// One adapter training: a single domain or the union of several (the merged-data baseline).
struct AdapterJob {
  std::vector<std::string> domains;
  int seed = 0;
  std::string label() const;  // "math", "math+medicine", …
  std::string name() const;   // "seed0/math", as results.json lists it
  LoraJob job;
  nlohmann::json settings;  // what settings.json in job.out must hold
};

// Runs (or with options.plan, prints) the whole study; returns the process exit status.
// With options.evaluate_only, only evaluates: every job must be finished, and each job folder
// stays locked while it is read, so that no other process can retrain it meanwhile.
int run_reproduce(const ReproduceOptions& options);

}  // namespace ls
