// `lorasum reproduce`: prepares data and the base model, runs (or prints) the adapter jobs,
// then evaluates and reports.
#include "experiments/study/reproduce.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>

#include "experiments/app/job_options.h"
#include "experiments/app/pretrain_dose.h"
#include "experiments/app/settings.h"
#include "experiments/app/workspace.h"
#include "experiments/datagen/datagen.h"
#include "experiments/study/parallel_jobs.h"
#include "experiments/study/plan.h"
#include "experiments/study/run_settings.h"
#include "experiments/study/study.h"
#include "gpt2/training/data.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/folder_lock.h"
#include "tensor/io/output_folder.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

namespace ls {

std::vector<AdapterJob> adapter_jobs(const ReproduceOptions& o, const Preset& preset,
                                     const StudyChoices& choices, const std::string& model_dir,
                                     const std::string& model_id, const std::string& data_dir,
                                     const std::string& run_dir);

namespace {

namespace fs = std::filesystem;

// Seeds of the generated data (each domain the next one) and of the generated corpus.
constexpr uint64_t kDataSeed = 2025;
constexpr uint64_t kCorpusSeed = 7;

using Lines = std::vector<std::pair<std::string, std::string>>;

// A path as the run folder's name takes it: absolute, so that two spellings of one are one.
nlohmann::json path_or_null(const std::string& path) {
  if (path.empty()) return nullptr;
  return fs::absolute(path).lexically_normal().string();
}

// runs/<preset>-<digest of the settings that change the figures>: runs of other settings never
// share a folder, so never replace each other's results, and a rerun finds its folder again.
std::string default_run_dir(const ReproduceOptions& o) {
  nlohmann::json figures = {{"preset", o.preset},
                            {"model", path_or_null(o.model_dir)},
                            {"data", path_or_null(o.data_dir)},
                            {"general", path_or_null(o.general)},
                            {"pretrain_tokens", o.pretrain_tokens},
                            {"seeds", o.seeds},
                            {"hparams", o.hparams},
                            {"lr", decimal(o.lr)},
                            {"choices", o.choices.names()},
                            {"batching", batching_name(o.batching)},
                            {"ablation", o.ablation},
                            {"only", o.only},
                            {"max_steps", o.max_steps},
                            {"eval_limit", o.eval_limit},
                            {"precision", precision_name(o.precision)}};
  return fmt::format("runs/{}-{}", o.preset, settings_identity(figures).substr(0, 8));
}

// Staging folders of job folders whose writers were killed: a finished job is reused, never
// rewritten, so no run of its own would remove them.
void remove_stale_job_staging(const std::string& run_dir) {
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir))
    if (entry.is_directory() && !is_temporary_name(entry.path().filename().string()))
      remove_stale_staging(entry.path().string());
}

bool finished(const std::string& dir, const std::string& main_file) {
  return fs::exists(fs::path(dir) / main_file) &&
         !fs::exists(fs::path(dir) / "checkpoint.safetensors");
}

std::string qa_text(const std::vector<datagen::QAExample>& examples) {
  std::string text;
  for (const auto& ex : examples)
    text += "Question: " + ex.question + "\nAnswer: " + ex.answer + "\n\n";
  return text;
}

// A seeded sample of `count` examples (all of them when count is 0 or more than there are).
std::vector<datagen::QAExample> sample(const std::vector<datagen::QAExample>& examples,
                                       size_t count, uint64_t seed) {
  std::vector<datagen::QAExample> out;
  for (size_t i : shuffled_indices(examples.size(), seed)) out.push_back(examples[i]);
  if (count > 0 && count < out.size()) out.resize(count);
  return out;
}

// Where the run's data come from, as their settings record holds it.
nlohmann::json data_source(const ReproduceOptions& o, const Preset& p) {
  nlohmann::json sizes = {{"train", p.train_per_domain},
                          {"test", p.test_per_domain},
                          {"pretrain", p.pretrain_per_domain},
                          {"seed", kDataSeed}};
  if (o.data_dir.empty()) return {{"generated", sizes}};
  nlohmann::json files;
  for (const std::string& d : study_domains())
    for (const char* split : {"train", "test"})
      files[d][split] = file_digest(fmt::format("{}/{}/{}.jsonl", o.data_dir, d, split));
  return {{"sampled", sizes}, {"files", files}};
}

void write_domain_data(const ReproduceOptions& o, const Preset& p, const std::string& domain,
                       const std::string& folder, uint64_t seed) {
  fs::create_directories(folder);
  std::vector<datagen::QAExample> train, test;
  if (o.data_dir.empty()) {
    datagen::QASplit split = datagen::generate_qa_split(
        domain, p.train_per_domain + p.pretrain_per_domain, p.test_per_domain, seed);
    train = std::move(split.train);
    test = std::move(split.test);
  } else {
    train = sample(datagen::read_jsonl(fmt::format("{}/{}/train.jsonl", o.data_dir, domain)),
                   p.train_per_domain + p.pretrain_per_domain, seed);
    test = sample(datagen::read_jsonl(fmt::format("{}/{}/test.jsonl", o.data_dir, domain)),
                  p.test_per_domain, seed + 1);
  }
  auto cut = train.begin() + std::min<size_t>(p.train_per_domain, train.size());
  datagen::write_jsonl(folder + "/pretrain.jsonl", {cut, train.end()});
  datagen::write_jsonl(folder + "/train.jsonl", {train.begin(), cut});
  datagen::write_jsonl(folder + "/test.jsonl", test);
}

// The run's data, <run>/data/<domain>/{train,test,pretrain}.jsonl, in the preset's sizes:
// generated, or sampled from --data. pretrain.jsonl holds examples disjoint from both splits
// that a generated pretraining corpus mixes in, as GPT-2's web text held some math, medicine
// and finance. A preset without sizes (gpt2-small) uses --data as it is. Prepared data are
// reused only when their settings record matches (they are cheap to remake, so a folder
// without a record is remade).
std::string prepare_data(const ReproduceOptions& o, const Preset& p, const std::string& run_dir) {
  if (!o.data_dir.empty())
    for (const std::string& d : study_domains())
      for (const char* split : {"train", "test"})
        if (!fs::exists(fmt::format("{}/{}/{}.jsonl", o.data_dir, d, split)))
          input_error("--data {}: missing {}/{}.jsonl", o.data_dir, d, split);
  if (p.train_per_domain == 0) {
    if (o.data_dir.empty())
      input_error("preset {} needs --data DIR with <domain>/{{train,test}}.jsonl", p.name);
    return o.data_dir;
  }
  std::string dir = run_dir + "/data";
  nlohmann::json settings = data_settings(data_source(o, p));
  if (!o.force && check_settings(dir, settings)) return dir;
  if (o.evaluate_only)  // its jobs, which read the data, cannot be finished either
    input_error(
        "{}: the run's data are not prepared yet; --evaluate-only trains nothing, so run "
        "the plan's jobs first",
        dir);
  uint64_t seed = kDataSeed;
  for (const std::string& d : study_domains()) write_domain_data(o, p, d, dir + "/" + d, ++seed);
  write_settings(dir, settings);
  return dir;
}

PretrainJob pretrain_job(const ReproduceOptions& o, const Preset& p, const std::string& run_dir) {
  PretrainJob job;
  job.corpus = o.general.empty() ? run_dir + "/corpus.txt" : o.general;
  job.out = run_dir + "/base-model";
  job.vocab_size = p.vocab_size;
  job.config = p.model;
  job.train = p.pretrain;
  job.train.progress = o.progress;
  job.train.label = "pretrain base model";
  job.tokens = o.pretrain_tokens;
  return job;
}

std::string pretrain_command(const PretrainJob& j, const std::string& binary) {
  PretrainJob job = j;
  job.train.resume = true;  // an interrupted pretraining continues
  job.train.progress = false;
  std::vector<std::string> words = {binary, "pretrain", "--data", job.corpus, "--out", job.out};
  std::vector<std::string> options = option_words(pretrain_job_options(), job);
  words.insert(words.end(), options.begin(), options.end());
  return shell_command(words);
}

// The dose the base model is about to get, in tokens and tokens per parameter.
void print_dose(const PretrainJob& job) {
  int64_t seq_len = std::min(job.train.seq_len, job.config.n_positions);
  int64_t tokens =
      job.tokens > 0 ? job.tokens : job.train.max_steps * tokens_per_step(job.train, seq_len);
  GPT2Config c = job.config;
  c.vocab_size = job.vocab_size;
  fmt::print(stderr, "pretraining the base model on {} tokens ({:.2f} per parameter{})\n", tokens,
             static_cast<double>(tokens) / c.parameter_count(),
             job.tokens > 0 ? "" : ", the preset's budget");
}

struct BaseModel {
  std::string dir, identity;
  std::optional<PretrainJob> planned;  // not trained yet, nor now (--plan, --evaluate-only)
};

// The base model: given, cached in the run folder (when its settings record matches), or
// pretrained now when `run_jobs`.
BaseModel prepare_model(const ReproduceOptions& o, const Preset& p, const std::string& run_dir,
                        const std::string& data_dir, bool run_jobs) {
  if (!o.model_dir.empty()) return {o.model_dir, model_identity(o.model_dir), std::nullopt};
  if (p.name == "gpt2-small")
    input_error("preset gpt2-small needs --model DIR (see scripts/download-gpt2.sh)");
  PretrainJob job = pretrain_job(o, p, run_dir);
  if (o.general.empty()) {  // deterministic and cheap: written every time, checked by digest
    std::string corpus = datagen::generate_general_corpus(p.corpus_bytes, kCorpusSeed);
    for (const std::string& d : study_domains()) {
      std::string mix = fmt::format("{}/{}/pretrain.jsonl", data_dir, d);
      if (fs::exists(mix)) corpus += qa_text(datagen::read_jsonl(mix));
    }
    if (!fs::exists(job.corpus) || read_file(job.corpus) != corpus)
      write_file_atomic(job.corpus, corpus);
  }
  nlohmann::json settings = pretrain_settings(job);
  if (o.force && run_jobs) fs::remove_all(job.out);  // --plan never deletes
  bool done = finished(job.out, "model.safetensors") && check_settings(job.out, settings);
  job.train.resume = true;  // run_pretrain_job checks the checkpoint's settings
  if (!done && run_jobs) {
    print_dose(job);
    run_pretrain_job(job);
  }
  BaseModel model{job.out, "pretrained:" + settings_identity(settings), std::nullopt};
  if (!done && !run_jobs) model.planned = job;
  return model;
}

void check_options(const ReproduceOptions& o) {
  if (o.seeds < 1) input_error("--seeds must be at least 1");
  if (o.hparams != "uniform" && o.hparams != "study")
    input_error("--hparams {}: expected uniform or study", o.hparams);
  static const std::vector<std::string> results = {"math+medicine", "math+finance",
                                                   "medicine+finance", "triple"};
  if (!o.only.empty() && std::find(results.begin(), results.end(), o.only) == results.end())
    input_error("--only {}: expected one of {}", o.only, fmt::join(results, ", "));
  if (o.ablation && !o.choices.empty())
    input_error(
        "--ablation runs its own configurations (none, each choice, all); drop "
        "--study-choices");
  if (!o.format.empty()) {
    parse_plan_format(o.format);
    if (!o.plan) input_error("--format {} says how --plan prints the jobs; add --plan", o.format);
  }
  if (o.evaluate_only && (o.plan || o.force))
    input_error("--evaluate-only trains nothing, so it goes with neither --plan nor --force");
}

// The base model's shape: its config.json, or before pretraining the preset's with its BPE size.
GPT2Config model_config(const Preset& p, const BaseModel& model) {
  if (fs::exists(model.dir + "/config.json")) return GPT2Config::load(model.dir + "/config.json");
  GPT2Config config = p.model;
  config.vocab_size = p.vocab_size;
  return config;
}

// --jobs, or measured at the first job's shapes when it is 0 and there is more than one job
// (at the full sequence length while the base model, and so its tokenizer, is still to come).
int job_workers(const ReproduceOptions& o, const std::vector<const AdapterJob*>& pending,
                const GPT2Config& config) {
  if (o.jobs > 0 || pending.size() < 2) return std::max(1, o.jobs);
  const LoraJob& job = pending.front()->job;
  bool tokenizer = fs::exists(job.model_dir + "/vocab.json");
  int64_t seq = job.train.batching == BatchOrder::by_length && tokenizer
                    ? mean_example_length(job, config.n_positions)
                    : std::min(job.train.seq_len, config.n_positions);
  WorkerChoice c = measure_job_workers(config, job.lora, job.train.batch, seq);
  if (c.measured)
    fmt::print(stderr,
               "adapter jobs: {} at once (one job per core trains {:.2f}x as many "
               "tokens/s as one job on all {} cores; --jobs sets this)\n",
               c.workers, c.speedup, num_threads());
  return c.workers;
}

// Every job not finished with its settings; jobs that several configurations share, once.
std::vector<const AdapterJob*> pending_jobs(
    const ReproduceOptions& o, const std::vector<std::vector<AdapterJob>>& per_config) {
  std::set<std::string> seen;
  std::vector<const AdapterJob*> pending;
  for (const auto& jobs : per_config)
    for (const AdapterJob& j : jobs) {
      if (!seen.insert(j.job.out).second) continue;
      bool done = !o.force && finished(j.job.out, "adapter_model.safetensors") &&
                  check_settings(j.job.out, j.settings);
      if (!done) pending.push_back(&j);
    }
  return pending;
}

// --plan: the pending jobs as commands, how long they would take here, and how to evaluate
// them once done, printed in the --format asked for.
void print_plan(const ReproduceOptions& o, const Preset& p, const BaseModel& model,
                const std::vector<const AdapterJob*>& pending, const std::string& run_dir) {
  PlanFormat format = parse_plan_format(o.format.empty() ? "shell" : o.format);
  Plan plan;
  plan.workdir = fs::current_path().string();
  plan.run_dir = run_dir;
  plan.cores = num_threads();
  if (model.planned) plan.pretrain = pretrain_command(*model.planned, o.binary);
  for (const AdapterJob* j : pending) plan.jobs.push_back(job_command(*j, o.binary));
  plan.evaluate = evaluate_command(o, run_dir);
  GPT2Config config = model_config(p, model);
  if (!pending.empty() || model.planned)  // else nothing to do, nothing to estimate
    plan.estimate = estimate_plan(pending, model.planned ? &*model.planned : nullptr, config);
  if (format == PlanFormat::parallel) plan.workers = job_workers(o, pending, config);
  fmt::print("{}", plan_text(plan, format));
}

// --evaluate-only: every job must be finished, and stays as it is while it is evaluated: each
// job folder's lock is held (a process training it, or about to replace it, holds that lock,
// and FolderLock then names the folder and that process).
std::vector<std::unique_ptr<FolderLock>> hold_finished_jobs(
    const ReproduceOptions& o, const BaseModel& model,
    const std::vector<std::vector<AdapterJob>>& per_config,
    const std::vector<const AdapterJob*>& pending) {
  const char* why = "--evaluate-only trains nothing; finish it first with";
  if (model.planned)
    input_error("{}: the base model is not trained yet; {}\n  {}", model.planned->out, why,
                pretrain_command(*model.planned, o.binary));
  if (!pending.empty())
    input_error("{}: the job {} is not finished; {}\n  {}", pending.front()->job.out,
                pending.front()->name(), why, job_command(*pending.front(), o.binary));
  std::vector<std::unique_ptr<FolderLock>> held;
  std::set<std::string> seen;
  for (const auto& jobs : per_config)
    for (const AdapterJob& j : jobs)
      if (seen.insert(j.job.out).second) held.push_back(std::make_unique<FolderLock>(j.job.out));
  return held;
}

// Trains the jobs; several at once, each in a child process, when that is faster.
void run_jobs(const ReproduceOptions& o, const Preset& p, const BaseModel& model,
              const std::vector<const AdapterJob*>& pending) {
  int workers = job_workers(o, pending, model_config(p, model));
  if (workers == 1) {
    for (const AdapterJob* j : pending) run_lora_job(j->job);
    return;
  }
  std::vector<ChildJob> children;
  int threads = std::max(1, num_threads() / workers);
  for (const AdapterJob* j : pending) {
    std::vector<std::string> args = job_args(*j);
    args.insert(args.end(), {"--threads", std::to_string(threads)});
    fs::path out(j->job.out);  // <run>/seedN/<job>: the log goes to <run>/logs/seedN/<job>.log
    fs::path log = out.parent_path().parent_path() / "logs" / out.parent_path().filename() /
                   (out.filename().string() + ".log");
    children.push_back({j->name(), args, log.string()});
  }
  run_child_jobs(children, workers, o.progress);
  // A child trains from its command line: its record must be what this run asked for.
  for (const AdapterJob* j : pending)
    if (!finished(j->job.out, "adapter_model.safetensors") ||
        !check_settings(j->job.out, j->settings))
      input_error("{}: the job ended without its adapter and settings record", j->job.out);
}

// What becomes of each job (each once, by folder): "reused" (finished with these settings),
// "resumed from step N" (its checkpoint) or "trained"; known before training, said after it.
Lines job_outcomes(const ReproduceOptions& o,
                   const std::vector<std::vector<AdapterJob>>& per_config,
                   const std::vector<const AdapterJob*>& pending) {
  std::set<std::string> to_train, seen;
  for (const AdapterJob* j : pending) to_train.insert(j->job.out);
  Lines outcomes;
  for (const auto& jobs : per_config)
    for (const AdapterJob& j : jobs) {
      const std::string& dir = j.job.out;
      if (!seen.insert(dir).second) continue;
      std::string checkpoint = dir + "/checkpoint.safetensors";
      std::string what = !to_train.count(dir) ? "reused"
                         : j.job.train.resume && fs::exists(checkpoint)
                             ? fmt::format("resumed from step {}", checkpoint_step(checkpoint))
                             : "trained";
      outcomes.emplace_back(dir, what);
    }
  return outcomes;
}

void print_outcomes(const Lines& outcomes) {
  int reused = 0, resumed = 0;
  for (const auto& [dir, what] : outcomes) {
    fmt::print(stderr, "{}: {}\n", dir, what);
    reused += what == "reused";
    resumed += what.rfind("resumed", 0) == 0;
  }
  fmt::print(stderr, "adapter jobs: {} reused, {} resumed, {} trained\n", reused, resumed,
             static_cast<int>(outcomes.size()) - reused - resumed);
}

// The settings lines of the results `dir` holds (none when it holds none, or unreadable ones).
Lines results_settings(const std::string& dir) {
  std::string path = dir + "/results.json";
  if (!fs::exists(path)) return {};
  nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? run_settings_lines(j) : Lines{};
}

// Says that this run's `report` (results.md or ablation.md) replaced an earlier run's, and which
// settings differed, as the results.json in `dir` recorded them before and does now.
void say_replaced(const std::string& report, const std::string& dir, const Lines& before) {
  Lines now = results_settings(dir);
  auto find = [](const Lines& lines, const std::string& name) {
    return std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l.first == name; });
  };
  std::vector<std::string> changed;
  for (const auto& line : now) {
    auto old = find(before, line.first);
    std::string was = old == before.end() ? "not set" : old->second;
    if (was != line.second)
      changed.push_back(fmt::format("{}: {} → {}", line.first, was, line.second));
  }
  for (const auto& line : before)
    if (find(now, line.first) == now.end())
      changed.push_back(fmt::format("{}: {} → not set", line.first, line.second));
  fmt::print(stderr, "{}: replaced the results of an earlier run{}\n", report,
             changed.empty()
                 ? " with the same settings"
                 : fmt::format(" made with other settings ({})", fmt::join(changed, "; ")));
}

// Evaluates each configuration and writes its reports (and the ablation's); prints the tables.
void report(const ReproduceOptions& o, const Preset& preset,
            const std::vector<StudyChoices>& configs,
            const std::vector<std::vector<AdapterJob>>& per_config, const std::string& model_dir,
            const std::string& data_dir, const std::string& run_dir,
            std::chrono::steady_clock::time_point began) {
  std::string shown = run_dir + (o.ablation ? "/ablation.md" : "/results.md");
  std::string first = o.ablation ? run_dir + "/ablation/" + configs[0].label() : run_dir;
  bool replacing = fs::exists(shown);
  Lines before = replacing ? results_settings(first) : Lines{};
  std::vector<StudyResults> results;
  for (size_t c = 0; c < configs.size(); ++c) {
    results.push_back(evaluate_study(o, preset, configs[c], per_config[c], model_dir, data_dir));
    std::string dir = o.ablation ? run_dir + "/ablation/" + configs[c].label() : run_dir;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    std::string tables = write_study_report(results.back(), o, preset, per_config[c], dir, seconds);
    if (!o.ablation) fmt::print("{}", tables);
  }
  if (o.ablation)
    fmt::print("{}", write_ablation_report(results, run_dir,
                                           results_json(results[0], o, preset, per_config[0], 0)));
  if (replacing) say_replaced(shown, first, before);
}

}  // namespace

int run_reproduce(const ReproduceOptions& o) {
  auto began = std::chrono::steady_clock::now();
  check_options(o);
  Preset preset = find_preset(o.preset);
  if (o.lr > 0.0f) preset.adapter.lr = o.lr;
  preset.pretrain.precision = preset.adapter.precision = o.precision;
  std::string run_dir = o.out.empty() ? default_run_dir(o) : o.out;
  if (o.out.empty()) fmt::print(stderr, "run folder: {}\n", run_dir);
  // Filled step by step (finished jobs are kept), so it is locked, never swapped; each job's
  // own folder inside it is replaced whole.
  FolderLock lock(run_dir);
  remove_stale_temporaries(lock);
  remove_stale_job_staging(run_dir);
  std::string data_dir = prepare_data(o, preset, run_dir);
  BaseModel model = prepare_model(o, preset, run_dir, data_dir, !o.plan && !o.evaluate_only);
  std::vector<StudyChoices> configs =
      o.ablation ? ablation_configurations() : std::vector<StudyChoices>{o.choices};
  std::vector<std::vector<AdapterJob>> per_config;
  for (const auto& choices : configs)
    per_config.push_back(
        adapter_jobs(o, preset, choices, model.dir, model.identity, data_dir, run_dir));
  std::vector<const AdapterJob*> pending = pending_jobs(o, per_config);
  if (o.plan) {
    print_plan(o, preset, model, pending, run_dir);
    return 0;
  }
  Lines outcomes = job_outcomes(o, per_config, pending);
  std::vector<std::unique_ptr<FolderLock>> held;  // --evaluate-only: the jobs it reads
  if (o.evaluate_only)
    held = hold_finished_jobs(o, model, per_config, pending);
  else
    run_jobs(o, preset, model, pending);
  print_outcomes(outcomes);
  report(o, preset, configs, per_config, model.dir, data_dir, run_dir, began);
  return 0;
}

}  // namespace ls
