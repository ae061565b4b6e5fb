#pragma once
// The two training jobs behind `lorasum train` and `lorasum pretrain`.
#include <optional>
#include <string>
#include <vector>

#include "gpt2/training/trainer.h"
#include "lora/lora.h"

namespace ls {

struct LoraJob {
  std::string model_dir;
  std::vector<std::string> data;  // several files are mixed (the merged-data baseline)
  std::string eval_data;
  std::string out;
  LoraConfig lora;
  TextFormat format;
  TrainOptions train;
  // Choices the study's code made (off by default):
  double subsample = 1.0;             // train on a seeded fraction of the mixed data files
  bool aligned_labels = false;        // QA files in the aligned-labels layout, train.seq_len long
  bool train_head_copy = false;       // also train a copy of the LM head, which is not saved
  std::optional<uint64_t> init_seed;  // seed of A's initialisation (default: train.seed)
};

// The examples a job trains on: every data file, then the seeded subsample. Examples in the
// aligned layout are cut to train.seq_len + 1 positions by construction.
std::vector<Example> job_examples(const LoraJob& job, const Tokenizer& tokenizer, int64_t seq_len);
// The mean tokens per example of a job's data as batches hold them (cut to the sequence length
// within a context of `context` positions): the length by-length batches are padded to.
int64_t mean_example_length(const LoraJob& job, int64_t context);

// The step a training checkpoint was written at (0 when its metadata does not say).
int64_t checkpoint_step(const std::string& path);

// Trains an adapter and writes it (PEFT folder), train_log.csv and settings.json into job.out.
// With train.resume, a checkpoint of the same settings continues; a finished folder of the same
// settings is left as it is (the result's `steps` is 0); other settings stop with InputError.
// Without train.resume, a checkpoint in job.out stops it with InputError unless train.force.
TrainResult run_lora_job(const LoraJob& job);

struct PretrainJob {
  std::string corpus;  // plain-text file
  std::string out;     // model folder to write
  int64_t vocab_size = 2048;
  GPT2Config config;
  double validation_fraction = 0.02;
  TrainOptions train;
  int64_t tokens = 0;            // > 0: stop after this many tokens (replaces train.epochs)
  std::vector<int64_t> save_at;  // token counts kept as snapshots (see pretrain_dose.h)
};

// Trains a BPE on the corpus, then a GPT-2 from scratch; writes a complete model folder with
// pretraining.json, and a snapshot folder for each of job.save_at.
TrainResult run_pretrain_job(const PretrainJob& job);

// From a step's dropout seed: the adapters' seed, apart from the model's own dropout.
inline constexpr SeedStream kAdaptersOfModelSeeds{SeedStream::Rule::Salt, 0xada97e};
// From a job's seed: which examples --subsample keeps, apart from training's draws.
inline constexpr SeedStream kSubsampleSeeds{SeedStream::Rule::Salt, 0x5b5a4d91e7c3a1f3ULL};

// Trainable for all LoRA factors of these adapters (dropout reseeded in model and adapters).
Trainable lora_trainable(GPT2& model, LoraAdapter& adapter);

}  // namespace ls
