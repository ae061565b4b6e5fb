// run_pretrain_job: a BPE, then a GPT-2 from scratch, up to a number of steps or of tokens,
// with snapshots of the same run on the way.
#include <fmt/format.h>

#include <filesystem>

#include "experiments/app/job_folder.h"
#include "experiments/app/pretrain_dose.h"
#include "experiments/app/settings.h"
#include "experiments/app/training.h"
#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/checkpoint.h"
#include "gpt2/training/evaluate.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace {

namespace fs = std::filesystem;

// The tokenizer, the model's shape and the corpus as training and validation windows.
struct PretrainData {
  Tokenizer tok;
  GPT2Config config;
  int64_t seq_len = 0;
  std::vector<Example> train, valid;
};

PretrainData pretrain_data(const PretrainJob& job) {
  std::string corpus = read_file(job.corpus);
  if (corpus.empty()) input_error("{}: the corpus is empty", job.corpus);
  require_utf8(corpus, job.corpus);
  PretrainData d{train_bpe(corpus, static_cast<int>(job.vocab_size)), job.config, 0, {}, {}};
  d.config.vocab_size = d.tok.vocab_size();
  d.config.bos_token_id = d.config.eos_token_id = d.tok.eot_id();
  d.config.validate("pretrain");
  d.seq_len = std::min(job.train.seq_len, d.config.n_positions);
  auto windows = text_windows(d.tok.encode(corpus), d.seq_len);
  std::tie(d.train, d.valid) = split_examples(windows, job.validation_fraction, job.train.seed);
  return d;
}

// The options the loop runs with: the job's, with its token budget applied.
TrainOptions pretrain_options(const PretrainJob& job, const PretrainData& d) {
  TrainOptions o = job.train;
  if (job.tokens > 0)
    o = with_token_budget(o, d.seq_len, static_cast<int64_t>(d.train.size()), job.tokens);
  o.batching = BatchOrder::random;  // text windows share one length: nothing to sort
  o.checkpoint_path = (fs::path(job.out) / "checkpoint.safetensors").string();
  return o;
}

DoseFigures dose_at(const PretrainData& d, const TrainOptions& o, int64_t steps,
                    const std::vector<LogRow>& log, double valid_loss) {
  int64_t tokens = steps * tokens_per_step(o, d.seq_len);
  return {steps,
          tokens,
          static_cast<double>(steps * o.batch * o.grad_accum) / static_cast<double>(d.train.size()),
          d.config.parameter_count(),
          valid_loss,
          log.empty() ? 0.0 : log.back().loss};
}

// Everything a model folder holds: tokenizer, config and weights, log, record, dose.
void write_model_folder(const std::string& staging, const GPT2& model, const PretrainData& d,
                        const std::vector<LogRow>& log, const nlohmann::json& settings,
                        const DoseFigures& dose) {
  d.tok.save(staging);
  save_gpt2(model, staging);
  write_file_atomic(staging + "/train_log.csv", log_csv(log));
  write_settings(staging, settings);
  write_file_atomic(staging + "/pretraining.json", dose_json(dose).dump(2) + "\n");
}

// The snapshot folders of job.save_at, held (locked, checked) for the whole run; each one's
// step, which must come within the run.
struct Snapshots {
  std::vector<int64_t> steps, tokens;
  std::vector<std::unique_ptr<OutputFolder>> folders;
};

Snapshots hold_snapshots(const PretrainJob& job, const PretrainData& d, const TrainOptions& o,
                         int64_t total_steps) {
  Snapshots s;
  for (int64_t tokens : job.save_at) {
    int64_t step = steps_for_tokens(o, d.seq_len, tokens);
    if (step > total_steps)
      input_error("--save-at {}: the run stops after {} tokens ({} steps of {})", tokens,
                  total_steps * tokens_per_step(o, d.seq_len), total_steps,
                  tokens_per_step(o, d.seq_len));
    s.steps.push_back(step);
    s.tokens.push_back(tokens);
    s.folders.push_back(output_folder(snapshot_dir(job.out, tokens), {job.corpus}, job.train));
  }
  return s;
}

// After each step: the snapshots due at it, each with its validation loss and the record of
// the run that stops there.
void save_due_snapshots(const PretrainJob& job, Snapshots& s, GPT2& model, const PretrainData& d,
                        const TrainOptions& o, int64_t steps, const std::vector<LogRow>& log) {
  for (size_t i = 0; i < s.steps.size(); ++i) {
    if (s.steps[i] != steps || !s.folders[i]) continue;
    double valid =
        d.valid.empty() ? -1 : evaluate_perplexity(model, d.valid, o.batch, o.seq_len).mean_nll();
    std::vector<LogRow> rows = log;
    rows.back().eval_loss = valid;
    nlohmann::json settings = pretrain_settings(snapshot_job(job, s.tokens[i], steps));
    s.folders[i]->replace([&](const std::string& staging) {
      write_model_folder(staging, model, d, rows, settings, dose_at(d, o, steps, rows, valid));
    });
    fmt::print(stderr, "{}: snapshot after {} tokens (validation loss {:.4f})\n",
               s.folders[i]->dir(), s.tokens[i], valid);
  }
}

}  // namespace

TrainResult run_pretrain_job(const PretrainJob& job) {
  job.train.validate();
  // The record keeps one dropout (--dropout sets both).
  LS_CHECK(job.config.resid_pdrop == job.config.embd_pdrop,
           "pretraining with residual dropout {} and embedding dropout {}", job.config.resid_pdrop,
           job.config.embd_pdrop);
  std::unique_ptr<OutputFolder> out = output_folder(job.out, {job.corpus}, job.train);
  nlohmann::json settings = pretrain_settings(job);
  if (job.train.resume && finished_before(job.out, "model.safetensors", settings)) return {};
  PretrainData d = pretrain_data(job);
  TrainOptions o = pretrain_options(job, d);
  o.checkpoint_settings = settings.dump();
  Snapshots snapshots = hold_snapshots(job, d, o, planned_steps(o, d.train.size()));
  GPT2 model(d.config, job.train.seed);
  o.after_step = [&](int64_t steps, const std::vector<LogRow>& log) {
    save_due_snapshots(job, snapshots, model, d, o, steps, log);
  };
  Trainable t{model.named_parameters(), [&model](uint64_t seed) { model.reseed_dropout(seed); }};
  TrainResult result = train(model, t, d.train, d.valid, o);
  if (out)
    out->replace([&](const std::string& staging) {
      DoseFigures dose = dose_at(d, o, result.steps, result.log, result.best_eval_loss);
      write_model_folder(staging, model, d, result.log, settings, dose);
    });
  return result;
}

}  // namespace ls
