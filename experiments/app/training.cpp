#include "experiments/app/training.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "experiments/app/aligned_labels.h"
#include "experiments/app/job_folder.h"
#include "experiments/app/settings.h"
#include "experiments/app/workspace.h"
#include "gpt2/checkpoint.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/output_folder.h"
#include "tensor/io/safetensors.h"

namespace ls {

namespace fs = std::filesystem;

Trainable lora_trainable(GPT2& model, LoraAdapter& adapter) {
  Trainable t;
  t.params = adapter.named_parameters();
  t.reseed_dropout = [&model, &adapter](uint64_t seed) {
    model.reseed_dropout(seed);
    adapter.reseed_dropout(derive_seed(seed, kAdaptersOfModelSeeds));
  };
  return t;
}

namespace {

// How the job's data files read: job.format, in the aligned-labels layout when asked for.
TextFormat job_format(const LoraJob& job) {
  TextFormat format = job.format;
  if (job.aligned_labels) format.qa_layout = aligned_labels_layout(job.train.seq_len);
  return format;
}

}  // namespace

std::vector<Example> job_examples(const LoraJob& job, const Tokenizer& tok, int64_t seq_len) {
  std::vector<Example> all;
  for (const std::string& file : job.data) {
    auto part = load_examples(file, tok, job_format(job), seq_len);
    all.insert(all.end(), part.begin(), part.end());
  }
  if (!(job.subsample > 0.0 && job.subsample <= 1.0))
    input_error("--subsample {} must be in (0, 1]", job.subsample);
  if (job.subsample == 1.0) return all;
  // As torch's random_split(data, [int(f·n), …]): a random int(f·n) of the examples.
  auto keep = static_cast<size_t>(job.subsample * static_cast<double>(all.size()));
  if (keep == 0)
    input_error("--subsample {} of {} examples leaves none", job.subsample, all.size());
  std::vector<size_t> order =
      shuffled_indices(all.size(), derive_seed(job.train.seed, kSubsampleSeeds));
  std::vector<Example> kept;
  for (size_t i = 0; i < keep; ++i) kept.push_back(std::move(all[order[i]]));
  return kept;
}

int64_t mean_example_length(const LoraJob& job, int64_t context) {
  int64_t seq_len = std::min(job.train.seq_len, context), total = 0;
  std::vector<Example> examples = job_examples(job, load_tokenizer(job.model_dir), seq_len);
  for (const Example& ex : examples)
    total += std::min<int64_t>(seq_len, static_cast<int64_t>(ex.tokens.size()) - 1);
  return std::max<int64_t>(1, total / static_cast<int64_t>(examples.size()));
}

int64_t checkpoint_step(const std::string& path) {
  SafetensorsFile file = SafetensorsFile::open(path);
  auto found = file.metadata().find("step");
  return found == file.metadata().end() ? 0 : std::strtoll(found->second.c_str(), nullptr, 10);
}

namespace {

// The settings a checkpoint was written with (its "settings" metadata), checked against the
// run that would continue it.
void check_checkpoint_settings(const std::string& path, const nlohmann::json& settings) {
  SafetensorsFile file = SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  auto found = meta.find("settings");
  auto recorded =
      found == meta.end() ? nlohmann::json() : nlohmann::json::parse(found->second, nullptr, false);
  if (!recorded.is_object())
    input_error(
        "{} holds no settings record, so it cannot be checked against this run: remove it or "
        "choose another --out",
        path);
  if (recorded != settings)
    input_error("{} was written with other settings ({}); resume with those, or remove it", path,
                settings_difference(settings, recorded));
}

// Everything a LoRA job reads, which its output folder must keep apart from.
std::vector<std::string> lora_inputs(const LoraJob& job) {
  std::vector<std::string> inputs = job.data;
  inputs.push_back(job.model_dir);
  if (!job.eval_data.empty()) inputs.push_back(job.eval_data);
  return inputs;
}

// Without --resume or --force, a checkpoint in `out` is an interrupted run that training from
// step 1 would silently discard.
void require_resume_or_force(const std::string& out, const TrainOptions& t) {
  std::string path = (fs::path(out) / "checkpoint.safetensors").string();
  if (t.resume || t.force || !fs::exists(path)) return;
  input_error(
      "{} holds a checkpoint at step {} of an interrupted run: --resume to continue, "
      "--force to start over",
      out, checkpoint_step(path));
}

}  // namespace

bool finished_before(const std::string& out, const std::string& result,
                     const nlohmann::json& settings) {
  std::string checkpoint = (fs::path(out) / "checkpoint.safetensors").string();
  if (fs::exists(checkpoint)) {
    check_checkpoint_settings(checkpoint, settings);
    return false;
  }
  if (!fs::exists(fs::path(out) / result)) return false;
  if (!check_settings(out, settings))
    input_error(
        "{} holds a {} without a settings record, so it cannot be checked against this run: "
        "choose another --out or remove it",
        out, result);
  if (world::is_root())
    fmt::print(stderr, "{}: already trained with these settings; nothing to do\n", out);
  return true;
}

namespace {

// The LM head copy that the study's code trained alongside LoRA (PEFT modules_to_save):
// it starts as the tied embedding and trains; the adapter saved afterwards does not hold it.
void add_head_copy(GPT2& model, Trainable& t) {
  Tensor copy = model.wte->weight().clone().set_requires_grad(true);
  model.set_training_head(copy);
  t.params.emplace_back("lm_head_copy.weight", copy);
}

}  // namespace

std::unique_ptr<OutputFolder> output_folder(const std::string& dir,
                                            const std::vector<std::string>& inputs,
                                            const TrainOptions& t) {
  if (!world::is_root()) return nullptr;
  auto out = std::make_unique<OutputFolder>(
      dir, inputs, "--out",
      t.resume ? "rerun to continue from its checkpoint"
               : "rerun with --resume to continue from its checkpoint");
  require_resume_or_force(dir, t);
  return out;
}

TrainResult run_lora_job(const LoraJob& job) {
  if (job.data.empty()) input_error("train: no --data file given");
  job.train.validate();  // before anything is loaded or written
  std::unique_ptr<OutputFolder> out = output_folder(job.out, lora_inputs(job), job.train);
  nlohmann::json settings = adapter_settings(job);
  if (job.train.resume && finished_before(job.out, "adapter_model.safetensors", settings))
    return {};
  Tokenizer tok = load_tokenizer(job.model_dir);
  auto model = load_gpt2(job.model_dir);
  model->set_requires_grad(false);  // only the adapter trains; base weights stay bit-identical
  int64_t seq_len = std::min(job.train.seq_len, model->config().n_positions);
  std::vector<Example> train_set = job_examples(job, tok, seq_len), eval_set;
  if (!job.eval_data.empty())
    eval_set = load_examples(job.eval_data, tok, job_format(job), seq_len);
  LoraConfig config = job.lora;
  if (config.base_model.empty()) config.base_model = job.model_dir;
  auto adapter = LoraAdapter::create(*model, config, job.init_seed.value_or(job.train.seed));
  adapter->attach(*model);
  TrainOptions o = job.train;
  o.checkpoint_path = (fs::path(job.out) / "checkpoint.safetensors").string();
  o.checkpoint_settings = settings.dump();
  Trainable t = lora_trainable(*model, *adapter);
  if (job.train_head_copy) add_head_copy(*model, t);
  TrainResult result = train(*model, t, train_set, eval_set, o);
  // The whole folder at once (the checkpoint goes with the old contents).
  if (out)
    out->replace([&](const std::string& staging) {
      adapter->save(staging);
      write_file_atomic(staging + "/train_log.csv", log_csv(result.log));
      write_settings(staging, settings);
    });
  return result;
}

}  // namespace ls
