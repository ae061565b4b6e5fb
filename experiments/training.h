#pragma once
// The two training jobs behind `lorasum train` and `lorasum pretrain`.
#include <string>
#include <vector>

#include "lora/lora.h"
#include "lora/trainer.h"

namespace ls {

struct LoraJob {
  std::string model_dir;
  std::vector<std::string> data;  // several files are mixed (the merged-data baseline)
  std::string eval_data;
  std::string out;
  LoraConfig lora;
  TextFormat format;
  TrainOptions train;
};

// Trains an adapter and writes it (PEFT folder) plus train_log.csv into job.out.
TrainResult run_lora_job(const LoraJob& job);

struct PretrainJob {
  std::string corpus;   // plain-text file
  std::string out;      // model folder to write
  int64_t vocab_size = 2048;
  GPT2Config config;
  double validation_fraction = 0.02;
  TrainOptions train;
};

// Trains a BPE on the corpus, then a GPT-2 from scratch; writes a complete model folder.
TrainResult run_pretrain_job(const PretrainJob& job);

// Trainable for all LoRA factors of these adapters (dropout reseeded in model and adapters).
Trainable lora_trainable(GPT2& model, const LoraAdapter& adapter);

}  // namespace ls
