#include "gpt2/training/trainer.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tensor/io/safetensors.h"
#include "gpt2/training/data_parallel.h"
#include "gpt2/training/evaluate.h"
#include "tensor/io/progress.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
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
    input_error("{}: not a training checkpoint (its step and log metadata are missing or "
                "malformed)", path);
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
    input_error("the learning rate must be a positive number, weight decay and gradient clipping "
                "non-negative ones (got {}, {}, {})", lr, weight_decay, grad_clip);
}

std::string log_csv(const std::vector<LogRow>& rows) {
  std::string out = "step,epoch,loss,lr,tokens_per_s,eval_loss,seconds\n";
  for (const LogRow& r : rows)
    out += fmt::format("{},{:.4f},{:.6f},{:.6g},{:.1f},{},{:.4f}\n", r.step, r.epoch, r.loss, r.lr,
                       r.tokens_per_s, r.eval_loss >= 0 ? fmt::format("{:.6f}", r.eval_loss) : "",
                       r.seconds);
  return out;
}

TrainResult train(GPT2& model, Trainable& t, const std::vector<Example>& train_set,
                  const std::vector<Example>& eval_set, const TrainOptions& o) {
  if (train_set.empty()) input_error("training set is empty");
  o.validate();
  int64_t seq_len = std::min(o.seq_len, model.config().n_positions);
  int64_t micro_per_epoch = (static_cast<int64_t>(train_set.size()) + o.batch - 1) / o.batch;
  int64_t total = (o.epochs * micro_per_epoch + o.grad_accum - 1) / o.grad_accum;
  if (o.max_steps > 0) total = std::min(total, o.max_steps);

  std::vector<Tensor> params;
  for (auto& [name, p] : t.params) params.push_back(p);
  AdamW opt(params, {0.9f, 0.999f, 1e-8f, o.weight_decay});
  LrSchedule schedule{o.lr, o.warmup, total, o.decay};
  TrainResult result;
  int64_t step = 0;
  if (o.resume && !o.checkpoint_path.empty() && std::filesystem::exists(o.checkpoint_path))
    step = load_checkpoint(o.checkpoint_path, t, opt, result.log);
  if (world::size() > 1)
    world::require_same(training_digest(train_set, eval_set, params, o.checkpoint_settings),
                        "training data, parameters or settings");

  std::vector<Tensor> best;
  model.set_training(true);
  ProgressBar bar(o.label, total, o.progress && world::is_root());
  bar.set_start(step);
  int64_t counted_total = 0;
  Clock::time_point began = Clock::now();
  std::vector<std::vector<size_t>> batches;  // of order_epoch
  int64_t order_epoch = -1;
  for (; step < total; ++step) {
    Clock::time_point step_began = Clock::now();
    float lr = schedule.at(step);
    opt.zero_grad();
    double step_loss = 0.0;
    int64_t step_tokens = 0;
    for (int64_t micro = 0; micro < o.grad_accum; ++micro) {
      int64_t k = step * o.grad_accum + micro;  // global micro-batch index
      int64_t epoch = k / micro_per_epoch, pos = k % micro_per_epoch;
      if (epoch != order_epoch) {
        uint64_t order_seed = derive_seed(o.seed, SeedStream::EpochOrder, epoch);
        batches = epoch_batches(train_set, o.batch, order_seed, o.batching);
        order_epoch = epoch;
      }
      Batch whole = make_batch(train_set, batches[pos], seq_len, 0);
      t.reseed_dropout(derive_seed(o.seed, SeedStream::StepDropout, k));
      step_loss += shard_loss_backward(model, whole, o.grad_accum);
      step_tokens += whole.counted_tokens();
    }
    sum_gradients(params);
    world::sum(&step_loss, 1);
    float norm = clip_grad_norm(params, o.grad_clip);
    if (!std::isfinite(step_loss) || !std::isfinite(norm)) {
      bool kept = !o.checkpoint_path.empty() && std::filesystem::exists(o.checkpoint_path);
      input_error("training diverged at step {}: loss {}, gradient norm {}; {}", step + 1,
                  step_loss, norm,
                  kept ? fmt::format("the last checkpoint, {}, is kept", o.checkpoint_path)
                       : std::string("no checkpoint had been written yet"));
    }
    opt.step(lr);
    counted_total += step_tokens;
    double seconds = std::chrono::duration<double>(Clock::now() - step_began).count();
    LogRow row{step + 1, static_cast<double>((step + 1) * o.grad_accum) / micro_per_epoch,
               step_loss, lr, step_tokens / std::max(seconds, 1e-9), -1.0, seconds};
    bool last = step + 1 == total;
    if (!eval_set.empty() && ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) || last)) {
      row.eval_loss = mean_loss(model, eval_set, o);
      if (result.best_eval_loss < 0 || row.eval_loss < result.best_eval_loss) {
        result.best_eval_loss = row.eval_loss;
        if (o.keep_best) {
          best.clear();
          for (const Tensor& p : params) best.push_back(p.clone());
        }
      }
    }
    result.log.push_back(row);
    bar.update(step + 1, fmt::format("loss {:.4f} lr {:.2e}", step_loss, lr),
               counted_total / std::max(1e-9, std::chrono::duration<double>(Clock::now() - began).count()));
    if (world::is_root() && !o.checkpoint_path.empty() && o.checkpoint_every > 0 &&
        (step + 1) % o.checkpoint_every == 0 && !last)
      save_checkpoint(o.checkpoint_path, t, opt, step + 1, result.log, o.checkpoint_settings);
  }
  model.set_training(false);
  if (o.keep_best && !best.empty())
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_from(best[i]);
  double elapsed = std::chrono::duration<double>(Clock::now() - began).count();
  result.steps = total;
  result.final_loss = result.log.empty() ? 0.0 : result.log.back().loss;
  result.tokens_per_s = counted_total / std::max(elapsed, 1e-9);
  bar.finish(fmt::format("loss {:.4f}, {:.0f} tok/s", result.final_loss, result.tokens_per_s));
  return result;
}

}  // namespace ls
