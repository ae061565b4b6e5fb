#include "gpt2/training/trainer.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "autograd/autograd.h"
#include "gpt2/training/data_parallel.h"
#include "gpt2/training/evaluate.h"
#include "gpt2/training/note.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
#include "tensor/io/progress.h"
#include "tensor/io/safetensors.h"
#include "tensor/random.h"

namespace ls {

namespace {

using Clock = std::chrono::steady_clock;

// Checkpoint = parameters + AdamW moments + step + log + the caller's settings record, in one
// safetensors file.
void save_checkpoint(const std::string& path, const Trainable& t, AdamW& opt, int64_t step,
                     const std::vector<LogRow>& log, const std::string& settings) {
  std::vector<SafetensorView> views;
  for (size_t i = 0; i < t.params.size(); ++i) {
    const auto& [name, p] = t.params[i];
    views.push_back({"param." + name, p.shape(), p.data()});
    views.push_back({"adam_m." + name, p.shape(), opt.first_moments()[i].data()});
    views.push_back({"adam_v." + name, p.shape(), opt.second_moments()[i].data()});
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const LogRow& r : log)
    rows.push_back({r.step, r.epoch, r.loss, r.lr, r.tokens_per_s, r.eval_loss, r.seconds});
  write_safetensors(path, views,
                    {{"step", std::to_string(step)}, {"log", rows.dump()}, {"settings", settings}});
}

int64_t load_checkpoint(const std::string& path, Trainable& t, AdamW& opt,
                        std::vector<LogRow>& log) {
  SafetensorsFile file = SafetensorsFile::open(path);
  auto copy = [&](const std::string& name, const Tensor& dst) {
    if (!file.has(name) || file.info(name).shape != dst.shape())
      input_error("{}: checkpoint does not match this run (tensor {})", path, name);
    std::vector<float> v = file.read_f32(name);
    std::copy(v.begin(), v.end(), dst.data());
  };
  for (size_t i = 0; i < t.params.size(); ++i) {
    const auto& [name, p] = t.params[i];
    copy("param." + name, p);
    copy("adam_m." + name, opt.first_moments()[i]);
    copy("adam_v." + name, opt.second_moments()[i]);
  }
  // The step and one log row per step, as save_checkpoint writes them.
  auto not_ours = [&] {
    input_error(
        "{}: not a training checkpoint (its step and log metadata are missing or "
        "malformed)",
        path);
  };
  auto step_text = file.metadata().find("step"), log_text = file.metadata().find("log");
  if (step_text == file.metadata().end() || log_text == file.metadata().end()) not_ours();
  const std::string& digits = step_text->second;
  int64_t step = -1;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  auto rows = nlohmann::json::parse(log_text->second, nullptr, /*allow_exceptions=*/false);
  if (error != std::errc() || end != digits.data() + digits.size() || step < 0 ||
      !rows.is_array() || rows.size() != static_cast<size_t>(step))
    not_ours();
  for (const auto& r : rows) {
    if (!r.is_array() || r.size() < 6 || r.size() > 7 || !r[0].is_number_integer()) not_ours();
    for (const auto& value : r)
      if (!value.is_number()) not_ours();
    log.push_back({r[0], r[1], r[2], r[3], r[4], r[5], r.size() == 7 ? r[6].get<double>() : 0.0});
  }
  opt.set_steps(step);
  return step;
}

double mean_loss(GPT2& model, const std::vector<Example>& set, const TrainOptions& o) {
  return evaluate_perplexity(model, set, o.batch, o.seq_len).mean_nll();
}

}  // namespace

void TrainOptions::validate() const {
  if (batch <= 0 || grad_accum <= 0 || epochs <= 0 || seq_len <= 1)
    input_error("batch, grad-accum, epochs must be positive and seq-len > 1");
  // Far beyond any real run, and it keeps the step arithmetic within int64.
  constexpr int64_t kMaxCount = 1'000'000;
  if (epochs > kMaxCount || grad_accum > kMaxCount)
    input_error("epochs = {} and grad-accum = {} must be at most {}", epochs, grad_accum,
                kMaxCount);
  bool finite = std::isfinite(lr) && std::isfinite(weight_decay) && std::isfinite(grad_clip);
  if (!finite || lr <= 0 || weight_decay < 0 || grad_clip < 0)
    input_error(
        "the learning rate must be a positive number, weight decay and gradient clipping "
        "non-negative ones (got {}, {}, {})",
        lr, weight_decay, grad_clip);
}

int64_t planned_steps(const TrainOptions& o, size_t examples) {
  int64_t micro_per_epoch = (static_cast<int64_t>(examples) + o.batch - 1) / o.batch;
  int64_t total = (o.epochs * micro_per_epoch + o.grad_accum - 1) / o.grad_accum;
  return o.max_steps > 0 ? std::min(total, o.max_steps) : total;
}

std::string log_csv(const std::vector<LogRow>& rows) {
  std::string out = "step,epoch,loss,lr,tokens_per_s,eval_loss,seconds\n";
  for (const LogRow& r : rows)
    out += fmt::format("{},{:.4f},{:.6f},{:.6g},{:.1f},{},{:.4f}\n", r.step, r.epoch, r.loss, r.lr,
                       r.tokens_per_s, r.eval_loss >= 0 ? fmt::format("{:.6f}", r.eval_loss) : "",
                       r.seconds);
  return out;
}

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<Tensor> tensors(const Trainable& t) {
  std::vector<Tensor> params;
  for (auto& [name, p] : t.params) params.push_back(p);
  return params;
}

// One call of train(): the plan of steps, the optimizer and what the steps record. Making one
// reads nothing; run() first loads the checkpoint it resumes from, if any.
class TrainLoop {
 public:
  TrainLoop(GPT2& model, Trainable& t, const std::vector<Example>& train_set,
            const std::vector<Example>& eval_set, const TrainOptions& o)
      : model_(model),
        t_(t),
        train_set_(train_set),
        eval_set_(eval_set),
        o_(o),
        seq_len_(std::min(o.seq_len, model.config().n_positions)),
        micro_per_epoch_((static_cast<int64_t>(train_set.size()) + o.batch - 1) / o.batch),
        total_(planned_steps(o, train_set.size())),
        params_(tensors(t)),
        opt_(params_, {0.9f, 0.999f, 1e-8f, o.weight_decay}),
        schedule_{o.lr, o.warmup, total_, o.decay},
        bar_(o.label, total_, o.progress && world::is_root()) {}

  TrainResult run() {
    if (o_.warmup > total_ && world::is_root())
      note_once(fmt::format(
          "--warmup {} is longer than the run's {} steps: the learning rate rises to {}/{} of "
          "its peak and never decays",
          o_.warmup, total_, total_, o_.warmup));
    int64_t first_step = start_step();
    began_ = Clock::now();
    model_.set_training(true);
    bar_.set_start(first_step);
    for (int64_t step = first_step; step < total_; ++step) run_step(step);
    model_.set_training(false);
    return finish();
  }

 private:
  // 0, or the checkpoint's step when resuming; under mpirun, only once every process holds the
  // same data, parameters and settings.
  int64_t start_step() {
    int64_t step = 0;
    if (o_.resume && !o_.checkpoint_path.empty() && std::filesystem::exists(o_.checkpoint_path))
      step = load_checkpoint(o_.checkpoint_path, t_, opt_, result_.log);
    if (world::size() > 1)
      world::require_same(training_digest(train_set_, eval_set_, params_, o_.checkpoint_settings),
                          "training data, parameters or settings");
    return step;
  }

  // One optimizer step, then its log row, and an evaluation and a checkpoint when due.
  void run_step(int64_t step) {
    Clock::time_point began = Clock::now();
    float lr = schedule_.at(step);
    opt_.zero_grad();
    int64_t tokens = 0;
    double loss = accumulate_gradients(step, &tokens);
    if (world::size() > 1) {  // each rank ran its rows: add up their gradients and losses
      sum_gradients(params_);
      world::sum(&loss, 1);
    }
    float norm = clip_grad_norm(params_, o_.grad_clip);
    check_finite(step, loss, norm);
    opt_.step(lr);
    counted_total_ += tokens;
    double seconds = seconds_since(began);
    LogRow row{step + 1,
               static_cast<double>((step + 1) * o_.grad_accum) / micro_per_epoch_,
               loss,
               lr,
               tokens / std::max(seconds, 1e-9),
               -1.0,
               seconds};
    bool last = step + 1 == total_;
    if (!eval_set_.empty() && ((o_.eval_every > 0 && (step + 1) % o_.eval_every == 0) || last))
      row.eval_loss = evaluate();
    result_.log.push_back(row);
    bar_.update(step + 1, fmt::format("loss {:.4f} lr {:.2e}", loss, lr),
                counted_total_ / std::max(1e-9, seconds_since(began_)));
    if (world::is_root() && o_.after_step) o_.after_step(step + 1, result_.log);
    if (world::is_root() && !o_.checkpoint_path.empty() && o_.checkpoint_every > 0 &&
        (step + 1) % o_.checkpoint_every == 0 && !last)
      save_checkpoint(o_.checkpoint_path, t_, opt_, step + 1, result_.log, o_.checkpoint_settings);
  }

  // Forward and backward of the step's grad_accum micro-batches: returns this process's part
  // of their loss and adds their counted tokens to *tokens.
  double accumulate_gradients(int64_t step, int64_t* tokens) {
    double loss = 0.0;
    for (int64_t micro = 0; micro < o_.grad_accum; ++micro) {
      int64_t k = step * o_.grad_accum + micro;  // global micro-batch index
      int64_t epoch = k / micro_per_epoch_, pos = k % micro_per_epoch_;
      if (epoch != order_epoch_) {
        uint64_t order_seed = derive_seed(o_.seed, kEpochOrderSeeds, epoch);
        batches_ = epoch_batches(train_set_, o_.batch, order_seed, o_.batching);
        order_epoch_ = epoch;
      }
      Batch whole = make_batch(train_set_, batches_[pos], seq_len_, 0);
      t_.reseed_dropout(derive_seed(o_.seed, kStepDropoutSeeds, k));
      loss += loss_backward(whole);
      *tokens += whole.counted_tokens();
    }
    return loss;
  }

  // Forward and backward of one micro-batch, its gradient divided by grad_accum so that the
  // step's gradient is that of the mean over its micro-batches; returns its share of that mean.
  // Under mpirun each rank runs only its rows of the batch (data_parallel.h).
  double loss_backward(const Batch& whole) {
    if (world::size() > 1) return shard_loss_backward(model_, whole, o_.grad_accum);
    Tensor loss = model_.loss(whole.ids, whole.targets, whole.batch, whole.seq, kIgnoreIndex);
    backward(loss, Tensor::scalar(1.0f / static_cast<float>(o_.grad_accum)));
    return loss.item() / static_cast<double>(o_.grad_accum);
  }

  void check_finite(int64_t step, double loss, float norm) const {
    if (std::isfinite(loss) && std::isfinite(norm)) return;
    bool kept = !o_.checkpoint_path.empty() && std::filesystem::exists(o_.checkpoint_path);
    input_error("training diverged at step {}: loss {}, gradient norm {}; {}", step + 1, loss, norm,
                kept ? fmt::format("the last checkpoint, {}, is kept", o_.checkpoint_path)
                     : std::string("no checkpoint had been written yet"));
  }

  // The evaluation loss; the best so far is remembered, with keep_best its parameters too.
  double evaluate() {
    double loss = mean_loss(model_, eval_set_, o_);
    if (result_.best_eval_loss < 0 || loss < result_.best_eval_loss) {
      result_.best_eval_loss = loss;
      if (o_.keep_best) {
        best_.clear();
        for (const Tensor& p : params_) best_.push_back(p.clone());
      }
    }
    return loss;
  }

  TrainResult finish() {
    if (o_.keep_best && !best_.empty())
      for (size_t i = 0; i < params_.size(); ++i) params_[i].copy_from(best_[i]);
    double elapsed = seconds_since(began_);
    result_.steps = total_;
    result_.final_loss = result_.log.empty() ? 0.0 : result_.log.back().loss;
    result_.tokens_per_s = counted_total_ / std::max(elapsed, 1e-9);
    bar_.finish(fmt::format("loss {:.4f}, {:.0f} tok/s", result_.final_loss, result_.tokens_per_s));
    return result_;
  }

  GPT2& model_;
  Trainable& t_;
  const std::vector<Example>& train_set_;
  const std::vector<Example>& eval_set_;
  const TrainOptions& o_;
  int64_t seq_len_, micro_per_epoch_, total_;
  std::vector<Tensor> params_;
  AdamW opt_;
  LrSchedule schedule_;
  TrainResult result_;
  ProgressBar bar_;
  Clock::time_point began_;
  int64_t counted_total_ = 0;
  std::vector<Tensor> best_;                  // parameters at the best evaluation (keep_best)
  std::vector<std::vector<size_t>> batches_;  // of order_epoch_
  int64_t order_epoch_ = -1;
};

}  // namespace

TrainResult train(GPT2& model, Trainable& t, const std::vector<Example>& train_set,
                  const std::vector<Example>& eval_set, const TrainOptions& o) {
  if (train_set.empty()) input_error("training set is empty");
  o.validate();
  PrecisionScope precision(o.precision);
  return TrainLoop(model, t, train_set, eval_set, o).run();
}

}  // namespace ls
