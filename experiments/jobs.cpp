// The adapter trainings of the study as independent jobs, with their hyperparameters.
#include <fmt/format.h>

#include "experiments/reproduce.h"
#include "tensor/error.h"

namespace ls {

std::string AdapterJob::label() const { return fmt::format("{}", fmt::join(domains, "+")); }

namespace {

struct StudyRow {
  float dropout;
  int64_t seq_len, batch, epochs;
};

// The study's code used a different dropout, length, batch and epoch count per adapter
// (Hugging Face Trainer defaults otherwise: AdamW, lr 5e-5, linear decay, no warm-up).
StudyRow study_row(const std::string& label) {
  static const std::map<std::string, StudyRow> rows = {
      {"math", {0.1f, 64, 16, 1}},
      {"medicine", {0.3f, 64, 8, 2}},
      {"finance", {0.25f, 128, 4, 2}},
      {"math+medicine", {0.3f, 64, 4, 2}},
      {"math+finance", {0.25f, 128, 16, 3}},
      {"medicine+finance", {0.15f, 128, 16, 1}},
      {"math+medicine+finance", {0.1f, 64, 16, 1}},
  };
  auto found = rows.find(label);
  LS_CHECK(found != rows.end(), "no study hyperparameters for {}", label);
  return found->second;
}

// Every subset of the domains with one, two or all three members, singles first.
std::vector<std::vector<std::string>> domain_sets() {
  const auto& d = study_domains();
  return {{d[0]}, {d[1]}, {d[2]}, {d[0], d[1]}, {d[0], d[2]}, {d[1], d[2]}, {d[0], d[1], d[2]}};
}

}  // namespace

std::vector<AdapterJob> adapter_jobs(const ReproduceOptions& o, const Preset& preset,
                                     const std::string& model_dir, const std::string& data_dir,
                                     const std::string& run_dir) {
  if (o.hparams != "uniform" && o.hparams != "study")
    input_error("--hparams {}: expected uniform or study", o.hparams);
  std::vector<AdapterJob> jobs;
  for (int seed = 0; seed < o.seeds; ++seed) {
    int index = 0;
    for (const auto& domains : domain_sets()) {
      AdapterJob j;
      j.domains = domains;
      j.seed = seed;
      LoraJob& job = j.job;
      job.model_dir = model_dir;
      for (const std::string& d : domains) job.data.push_back(fmt::format("{}/{}/train.jsonl", data_dir, d));
      job.out = fmt::format("{}/seed{}/{}", run_dir, seed, j.label());
      job.lora = preset.lora;
      job.train = preset.adapter;
      // Independent adapters: each job its own initialisation, order and dropout stream.
      job.train.seed = static_cast<uint64_t>(1000 * seed + ++index);
      job.train.progress = o.progress;
      job.train.resume = !o.force;  // an interrupted job continues from its checkpoint
      job.train.label = fmt::format("seed {} {:<22}", seed, j.label());
      if (o.hparams == "study") {
        StudyRow row = study_row(j.label());
        job.lora.dropout = row.dropout;
        job.train.seq_len = row.seq_len;
        job.train.batch = row.batch;
        job.train.epochs = row.epochs;
        job.train.lr = 5e-5f;
        job.train.warmup = 0;
        job.train.weight_decay = 0.01f;
        job.train.decay = LrSchedule::Decay::Linear;
      }
      jobs.push_back(std::move(j));
    }
  }
  return jobs;
}

std::string job_command(const AdapterJob& j, const std::string& binary) {
  const LoraJob& job = j.job;
  std::string data;
  for (const std::string& f : job.data) data += " --data " + f;
  return fmt::format(
      "{} train --model {}{} --out {} --rank {} --alpha {} --targets {} --dropout {} --lr {} "
      "--epochs {} --batch {} --seq-len {} --warmup {} --weight-decay {} --grad-clip {} "
      "--seed {} --no-progress",
      binary, job.model_dir, data, job.out, job.lora.r, job.lora.alpha,
      fmt::join(job.lora.target_modules, ","), job.lora.dropout, job.train.lr, job.train.epochs,
      job.train.batch, job.train.seq_len, job.train.warmup, job.train.weight_decay,
      job.train.grad_clip, job.train.seed);
}

}  // namespace ls
