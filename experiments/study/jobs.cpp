// The adapter trainings of the study as independent jobs, with their hyperparameters and the
// study choices that change how they train.
#include <fmt/format.h>

#include "experiments/app/job_options.h"
#include "experiments/app/settings.h"
#include "experiments/study/plan.h"
#include "experiments/study/reproduce.h"
#include "experiments/study/study.h"
#include "tensor/error.h"

namespace ls {

std::string AdapterJob::label() const { return domains_label(domains); }
std::string AdapterJob::name() const { return fmt::format("seed{}/{}", seed, label()); }

namespace {

// Job seeds: seed s gives its k-th job (k = 1..7) the seed kSeedStride·s + k, and the adapters
// that shared-init starts alike the seed kSeedStride·s, which no job of its own uses.
constexpr uint64_t kSeedStride = 1000;

struct StudyRow {
  float dropout;
  int64_t seq_len, batch, epochs;
};

// The study's code used a different dropout, length, batch and epoch count per adapter
// (Hugging Face Trainer defaults otherwise: AdamW, lr 5e-5, linear decay). Its Math+Medicine
// script says batch 4, but its log shows 5781 steps for 23,122 examples × 2 epochs: batch 8.
StudyRow study_row(const std::string& label) {
  static const std::map<std::string, StudyRow> rows = {
      {"math", {0.1f, 64, 16, 1}},
      {"medicine", {0.3f, 64, 8, 2}},
      {"finance", {0.25f, 128, 4, 2}},
      {"math+medicine", {0.3f, 64, 8, 2}},
      {"math+finance", {0.25f, 128, 16, 3}},
      {"medicine+finance", {0.15f, 128, 16, 1}},
      {"math+medicine+finance", {0.1f, 64, 16, 1}},
  };
  auto found = rows.find(label);
  LS_CHECK(found != rows.end(), "no study hyperparameters for {}", label);
  return found->second;
}

// The study's singles set warm-up 2 and weight decay 0.01; its merged-data scripts left both
// at the Trainer's defaults (0 and 0).
void apply_study_hparams(AdapterJob& j, float lr_override) {
  StudyRow row = study_row(j.label());
  bool single = j.domains.size() == 1;
  LoraJob& job = j.job;
  job.lora.dropout = row.dropout;
  job.train.seq_len = row.seq_len;
  job.train.batch = row.batch;
  job.train.epochs = row.epochs;
  job.train.lr = lr_override > 0 ? lr_override : 5e-5f;
  job.train.warmup = single ? 2 : 0;
  job.train.weight_decay = single ? 0.01f : 0.0f;
  job.train.decay = LrSchedule::Decay::Linear;
}

// The fraction of the union each pair-merged script trained on (torch random_split).
double merged_fraction(const std::string& label) { return label == "math+finance" ? 0.8 : 0.5; }

void apply_study_choices(AdapterJob& j, const StudyChoices& choices) {
  LoraJob& job = j.job;
  bool single = j.domains.size() == 1, pair = j.domains.size() == 2;
  bool triple = j.domains.size() == 3;
  if (choices.has(StudyChoice::aligned_labels)) job.aligned_labels = true;
  if (choices.has(StudyChoice::merged_subsample) && pair)
    job.subsample = merged_fraction(j.label());
  if (choices.has(StudyChoice::discarded_lm_head) && (pair || j.label() == "finance"))
    job.train_head_copy = true;
  if (choices.has(StudyChoice::shared_init) && (single || triple))
    job.init_seed = kSeedStride * static_cast<uint64_t>(j.seed);
}

// Every subset of the domains with one, two or all three members, singles first.
std::vector<std::vector<std::string>> domain_sets() {
  const auto& d = study_domains();
  return {{d[0]}, {d[1]}, {d[2]}, {d[0], d[1]}, {d[0], d[2]}, {d[1], d[2]}, {d[0], d[1], d[2]}};
}

// Whether --only needs this job: a pair needs its singles and its merged run; the triple
// needs the three singles and the all-three merged run.
bool needed(const std::vector<std::string>& domains, const std::string& only) {
  if (only.empty()) return true;
  if (only == "triple") return domains.size() != 2;
  std::string label = domains_label(domains);
  if (domains.size() == 1) return ("+" + only + "+").find("+" + label + "+") != std::string::npos;
  return only == label;
}

}  // namespace

std::vector<AdapterJob> adapter_jobs(const ReproduceOptions& o, const Preset& preset,
                                     const StudyChoices& choices, const std::string& model_dir,
                                     const std::string& model_id, const std::string& data_dir,
                                     const std::string& run_dir) {
  std::vector<AdapterJob> jobs;
  for (int seed = 0; seed < o.seeds; ++seed) {
    uint64_t index = 0;
    for (const auto& domains : domain_sets()) {
      ++index;
      if (!needed(domains, o.only)) continue;
      AdapterJob j;
      j.domains = domains;
      j.seed = seed;
      LoraJob& job = j.job;
      job.model_dir = model_dir;
      for (const std::string& d : domains)
        job.data.push_back(fmt::format("{}/{}/train.jsonl", data_dir, d));
      job.lora = preset.lora;
      job.train = preset.adapter;
      // Independent adapters: each job its own initialisation, order and dropout stream.
      job.train.seed = kSeedStride * static_cast<uint64_t>(seed) + index;
      job.train.batching = o.batching;
      job.train.progress = o.progress;
      job.train.resume = !o.force;  // an interrupted job continues from its checkpoint
      job.train.force = o.force;
      job.train.label = fmt::format("seed {} {:<22}", seed, j.label());
      if (o.hparams == "study") apply_study_hparams(j, o.lr);
      apply_study_choices(j, choices);
      if (o.max_steps > 0) job.train.max_steps = o.max_steps;
      j.settings = adapter_settings(job, model_id);
      // The folder name carries the settings' digest: other settings never reuse it.
      job.out =
          fmt::format("{}/{}-{}", run_dir, j.name(), settings_identity(j.settings).substr(0, 8));
      jobs.push_back(std::move(j));
    }
  }
  return jobs;
}

std::vector<std::string> job_args(const AdapterJob& j) {
  LoraJob job = j.job;
  job.train.progress = false;
  std::vector<std::string> args = {"train", "--model", job.model_dir};
  for (const std::string& f : job.data) args.insert(args.end(), {"--data", f});
  if (!job.eval_data.empty()) args.insert(args.end(), {"--eval-data", job.eval_data});
  args.insert(args.end(), {"--out", job.out});
  std::vector<std::string> options = option_words(lora_job_options(), job);
  args.insert(args.end(), options.begin(), options.end());
  return args;
}

std::string shell_quoted(const std::string& word) {
  bool plain = !word.empty() &&
               word.find_first_not_of(
                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-=./,:@%") ==
                   std::string::npos;
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_command(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& w : words) {
    if (!line.empty()) line += ' ';
    line += shell_quoted(w);
  }
  return line;
}

std::string job_command(const AdapterJob& j, const std::string& binary) {
  std::vector<std::string> words = job_args(j);
  words.insert(words.begin(), binary);
  return shell_command(words);
}

}  // namespace ls
