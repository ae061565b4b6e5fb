#include "experiments/training.h"

#include <filesystem>

#include "experiments/workspace.h"
#include "gpt2/bpe_trainer.h"
#include "gpt2/checkpoint.h"
#include "tensor/error.h"
#include "tensor/file_io.h"
#include "tensor/output_folder.h"

namespace ls {

namespace fs = std::filesystem;

Trainable lora_trainable(GPT2& model, const LoraAdapter& adapter) {
  Trainable t;
  t.params = adapter.named_parameters();
  LoraAdapter* a = const_cast<LoraAdapter*>(&adapter);
  t.reseed_dropout = [&model, a](uint64_t seed) {
    model.reseed_dropout(seed);
    a->reseed_dropout(seed ^ 0xada97e);
  };
  return t;
}

namespace {

// Everything a LoRA job reads, which its output folder must keep apart from.
std::vector<std::string> lora_inputs(const LoraJob& job) {
  std::vector<std::string> inputs = job.data;
  inputs.push_back(job.model_dir);
  if (!job.eval_data.empty()) inputs.push_back(job.eval_data);
  return inputs;
}

}  // namespace

TrainResult run_lora_job(const LoraJob& job) {
  if (job.data.empty()) input_error("train: no --data file given");
  job.train.validate();  // before anything is loaded or written
  OutputFolder out(job.out, lora_inputs(job));
  Tokenizer tok = load_tokenizer(job.model_dir);
  auto model = load_gpt2(job.model_dir);
  model->set_requires_grad(false);  // only the adapter trains; base weights stay bit-identical
  int64_t seq_len = std::min(job.train.seq_len, model->config().n_positions);
  std::vector<Example> train_set, eval_set;
  for (const std::string& file : job.data) {
    auto part = load_examples(file, tok, job.format, seq_len);
    train_set.insert(train_set.end(), part.begin(), part.end());
  }
  if (!job.eval_data.empty()) eval_set = load_examples(job.eval_data, tok, job.format, seq_len);
  LoraConfig config = job.lora;
  if (config.base_model.empty()) config.base_model = job.model_dir;
  auto adapter = LoraAdapter::create(*model, config, job.train.seed);
  adapter->attach(*model);
  TrainOptions o = job.train;
  o.checkpoint_path = (fs::path(job.out) / "checkpoint.safetensors").string();
  Trainable t = lora_trainable(*model, *adapter);
  TrainResult result = train(*model, t, train_set, eval_set, o);
  // The whole folder at once (the checkpoint goes with the old contents).
  out.replace([&](const std::string& staging) {
    adapter->save(staging);
    write_file_atomic(staging + "/train_log.csv", log_csv(result.log));
  });
  return result;
}

TrainResult run_pretrain_job(const PretrainJob& job) {
  job.train.validate();
  OutputFolder out(job.out, {job.corpus});
  std::string corpus = read_file(job.corpus);
  if (corpus.empty()) input_error("{}: the corpus is empty", job.corpus);
  require_utf8(corpus, job.corpus);
  Tokenizer tok = train_bpe(corpus, static_cast<int>(job.vocab_size));
  GPT2Config config = job.config;
  config.vocab_size = tok.vocab_size();
  config.bos_token_id = config.eos_token_id = tok.eot_id();
  config.validate("pretrain");
  auto examples = text_windows(tok.encode(corpus), std::min(job.train.seq_len, config.n_positions));
  auto [train_set, valid_set] = split_examples(examples, job.validation_fraction, job.train.seed);
  GPT2 model(config, job.train.seed);
  TrainOptions o = job.train;
  o.checkpoint_path = (fs::path(job.out) / "checkpoint.safetensors").string();
  Trainable t{model.named_parameters(), [&model](uint64_t seed) { model.reseed_dropout(seed); }};
  TrainResult result = train(model, t, train_set, valid_set, o);
  out.replace([&](const std::string& staging) {
    tok.save(staging);
    save_gpt2(model, staging);
    write_file_atomic(staging + "/train_log.csv", log_csv(result.log));
  });
  return result;
}

}  // namespace ls
