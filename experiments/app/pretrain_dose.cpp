#include "experiments/app/pretrain_dose.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls {

int64_t parse_token_count(const std::string& text, const std::string& flag) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  double unit = 1;
  std::string rest = text.substr(used);
  if (rest == "k" || rest == "K")
    unit = 1e3;
  else if (rest == "M")
    unit = 1e6;
  else if (rest == "G")
    unit = 1e9;
  else if (!rest.empty())
    used = 0;
  double count = value * unit;
  if (used == 0 || !std::isfinite(count) || count < 1 || count > 1e15 || count != std::floor(count))
    input_error("{} {}: expected a whole number of tokens ≥ 1, e.g. 3000000 or 3M", flag, text);
  return static_cast<int64_t>(count);
}

std::vector<int64_t> parse_token_counts(const std::string& text, const std::string& flag) {
  std::vector<int64_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    out.push_back(parse_token_count(text.substr(start, comma - start), flag));
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int64_t tokens_per_step(const TrainOptions& t, int64_t seq_len) {
  return t.batch * t.grad_accum * seq_len;
}

int64_t steps_for_tokens(const TrainOptions& t, int64_t seq_len, int64_t tokens) {
  int64_t per_step = tokens_per_step(t, seq_len);
  return (tokens + per_step - 1) / per_step;
}

TrainOptions with_token_budget(TrainOptions t, int64_t seq_len, int64_t windows, int64_t tokens) {
  int64_t steps = steps_for_tokens(t, seq_len, tokens);
  int64_t micro_per_epoch = (windows + t.batch - 1) / t.batch;
  t.epochs = (steps * t.grad_accum + micro_per_epoch - 1) / micro_per_epoch;
  t.max_steps = t.max_steps > 0 ? std::min(t.max_steps, steps) : steps;
  return t;
}

std::string snapshot_dir(const std::string& out, int64_t tokens) {
  std::filesystem::path p(out);
  if (p.filename().empty()) p = p.parent_path();  // "models/base/"
  return fmt::format("{}-tokens{}", p.string(), tokens);
}

PretrainJob snapshot_job(const PretrainJob& job, int64_t tokens, int64_t step) {
  PretrainJob s = job;
  s.out = snapshot_dir(job.out, tokens);
  s.save_at.clear();
  if (job.train.decay == LrSchedule::Decay::Constant)
    s.tokens = tokens;
  else
    s.train.max_steps = step;
  return s;
}

nlohmann::json dose_json(const DoseFigures& d) {
  return {{"steps", d.steps},
          {"tokens", d.tokens},
          {"passes", d.passes},
          {"parameters", d.parameters},
          {"tokens_per_parameter", d.tokens / d.parameters},
          {"valid_loss", d.valid_loss >= 0 ? nlohmann::json(d.valid_loss) : nullptr},
          {"train_loss", d.train_loss}};
}

nlohmann::json read_dose(const std::string& model_dir) {
  std::string path = model_dir + "/pretraining.json";
  if (!std::filesystem::exists(path)) return nullptr;
  auto j = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_number())
    input_error("{}: not a pretraining record (expected a JSON object with \"tokens\")", path);
  return j;
}

}  // namespace ls
