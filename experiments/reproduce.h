#pragma once
// The reproduction of "naive LoRA summation" (arXiv 2508.11985): single-domain adapters,
// merged-data adapters, their naive sums, perplexities, similarity, and the fit between RMS
// cosine and the perplexity change. See experiments/README.md for the protocol.
#include <string>
#include <vector>

#include "experiments/training.h"

namespace ls {

struct ReproduceOptions {
  std::string preset = "tiny";   // tiny, smoke or gpt2-small
  std::string out;               // run folder; default runs/<preset>-<date>
  std::string model_dir;         // base model; default: pretrained by the run (cached)
  std::string data_dir;          // <domain>/{train,test}.jsonl; default: generated
  std::string general;           // pretraining corpus; default: generated
  int seeds = 3;
  std::string hparams = "uniform";  // uniform or study
  float lr = 0.0f;                  // adapter learning rate; 0 = the preset's
  bool force = false;            // redo finished jobs
  bool plan = false;             // print the jobs as shell commands and stop
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
  LoraJob job;
};

// Runs (or with options.plan, prints) the whole study; returns the process exit status.
int run_reproduce(const ReproduceOptions& options);

}  // namespace ls
