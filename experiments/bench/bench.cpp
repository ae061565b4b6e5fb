#include "experiments/bench/bench.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "gpt2/generate.h"
#include "lora/compose.h"
#include "gpt2/training/data_parallel.h"
#include "lora/lora.h"
#include "lora/similarity.h"
#include "nn/optim.h"
#include "tensor/distributed.h"
#include "tensor/parallel.h"

namespace ls {

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of the whole process (all threads): on a shared machine it moves much less than
// wall time when other jobs take the cores.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

BenchFigure time_it(const std::string& name, int steps, const std::function<void()>& fn) {
  fn();  // warm-up: first-touch allocations, BLAS buffers
  std::vector<double> ms, cpu;
  for (int i = 0; i < steps; ++i) {
    Clock::time_point t0 = Clock::now();
    double c0 = cpu_ms();
    fn();
    cpu.push_back(cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  return {name, ms[ms.size() / 2], ms.front(), ms.back(), cpu[cpu.size() / 2], ""};
}

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

bool wanted(const BenchOptions& o, const std::string& name) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
}

constexpr int64_t kPromptTokens = 16;

// Sequences cut to the model's context, so that the defaults also run on the small presets.
BenchOptions fit_context(BenchOptions o, const GPT2Config& config) {
  o.seq = std::min(o.seq, config.n_positions);
  o.eval_seq = std::min(o.eval_seq, config.n_positions);
  o.gen_tokens = static_cast<int>(
      std::clamp<int64_t>(config.n_positions - kPromptTokens, 1, o.gen_tokens));
  return o;
}

LoraConfig lora_config(const BenchOptions& o) {
  LoraConfig lc;
  lc.r = o.rank;
  lc.alpha = o.alpha;
  lc.dropout = o.dropout;
  lc.target_modules = o.targets;
  return lc;
}

// Adapters as if trained: B drawn at random too (a fresh adapter's B is zero, and so would
// be every delta and cosine).
std::vector<AdapterFactors> trained_like_adapters(GPT2& model, const BenchOptions& o, int count) {
  std::vector<AdapterFactors> out;
  Rng rng(7);
  for (int i = 0; i < count; ++i) {
    auto adapter = LoraAdapter::create(model, lora_config(o), 100 + i);
    for (auto& [name, layer] : adapter->layers())
      layer->B.copy_from(rand_normal(layer->B.shape(), 0.0f, 0.02f, rng));
    out.push_back(AdapterFactors::of(*adapter, fmt::format("adapter{}", i)));
  }
  return out;
}

}  // namespace

std::vector<int32_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = static_cast<int32_t>(rng.below(vocab));
  return ids;
}

void train_step(GPT2& model, AdamW& opt, const std::vector<int32_t>& ids,
                const std::vector<int32_t>& targets, int64_t b, int64_t t) {
  opt.zero_grad();
  backward(model.loss(ids, targets, b, t));
  opt.step(1e-4f);
}

BenchReport run_bench(const BenchOptions& options) {
  set_num_threads(options.threads);
  BenchReport report;
  report.threads = num_threads();
  GPT2Config config = GPT2Config::preset(options.config);
  config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.0f;
  BenchOptions o = fit_context(options, config);
  GPT2 model(config, 0);
  int64_t v = config.vocab_size;
  std::vector<int32_t> ids = random_ids(o.batch * o.seq, v, 1), tg = random_ids(o.batch * o.seq, v, 2);

  if (wanted(o, "lora_train_step")) {
    model.set_requires_grad(false);
    auto adapter = LoraAdapter::create(model, lora_config(o), 1);
    adapter->attach(model);
    AdamW opt(adapter->parameters(), {});
    model.set_training(true);
    report.figures.push_back(time_it("lora_train_step", o.steps, [&] {
      train_step(model, opt, ids, tg, o.batch, o.seq);
    }));
    BenchFigure& f = report.figures.back();
    f.note = fmt::format("B={} T={} r={} {}{}, {:.0f} tok/s", o.batch, o.seq, o.rank,
                         fmt::join(o.targets, ","),
                         o.dropout > 0 ? fmt::format(" dropout {}", o.dropout) : "",
                         o.batch * o.seq / (f.median_ms / 1000.0));
    adapter->detach(model);
  }
  report.peak_rss_mib = peak_rss_mib();

  if (wanted(o, "gradient_sum")) {  // under mpirun: what data parallelism adds to each step
    auto adapter = LoraAdapter::create(model, lora_config(o), 1);
    std::vector<Tensor> params = adapter->parameters();
    int64_t floats = 0;
    for (const Tensor& p : params) {
      p.impl()->grad = Tensor::ones(p.shape()).impl_ptr();
      floats += p.numel();
    }
    report.figures.push_back(time_it("gradient_sum", o.steps, [&] { sum_gradients(params); }));
    report.figures.back().note = fmt::format("LoRA gradients, {} floats, over {} MPI rank(s)",
                                             floats, world::size());
  }

  if (wanted(o, "eval_forward")) {
    std::vector<int32_t> eids = random_ids(o.eval_batch * o.eval_seq, v, 3);
    std::vector<int32_t> etg = random_ids(o.eval_batch * o.eval_seq, v, 4);
    model.set_training(false);
    report.figures.push_back(time_it("eval_forward", o.steps, [&] {
      model.nll(eids, etg, o.eval_batch, o.eval_seq);
    }));
    report.figures.back().note = fmt::format("B={} T={}, no grad", o.eval_batch, o.eval_seq);
  }

  if (wanted(o, "generate")) {
    GenerateOptions g;
    g.temperature = 0.0f;
    g.max_new_tokens = o.gen_tokens;
    std::vector<int32_t> prompt = random_ids(kPromptTokens, v, 5);
    BenchFigure f = time_it("generate", std::max(1, o.steps / 2), [&] { generate(model, prompt, g); });
    report.generate_tokens_per_s = o.gen_tokens / (f.median_ms / 1000.0);
    f.note = fmt::format("{} tokens, KV cache, {:.1f} tok/s", o.gen_tokens, report.generate_tokens_per_s);
    report.figures.push_back(f);
  }

  if (wanted(o, "full_train_step")) {
    model.set_requires_grad(true);
    AdamW opt(model.parameters(), {});
    model.set_training(true);
    report.figures.push_back(time_it("full_train_step", o.steps, [&] {
      train_step(model, opt, ids, tg, o.batch, o.seq);
    }));
    report.figures.back().note = fmt::format("B={} T={}, all parameters", o.batch, o.seq);
  }

  std::string shape = fmt::format("r={} {}", o.rank, fmt::join(o.targets, ","));
  if (wanted(o, "merge")) {
    std::vector<AdapterFactors> adapters = trained_like_adapters(model, o, 3);
    report.figures.push_back(time_it("merge", o.steps, [&] {
      compose_into(model, adapters, MergeOptions{});  // the plain sum, into the weights
    }));
    report.figures.back().note = "sum of 3 adapters merged into the model, " + shape;
  }

  if (wanted(o, "similarity")) {
    std::vector<AdapterFactors> adapters = trained_like_adapters(model, o, 2);
    report.figures.push_back(time_it("similarity", o.steps, [&] {
      adapter_similarity(adapters[0], adapters[1]);
    }));
    report.figures.back().note = "2 adapters, " + shape;
  }
  return report;
}

std::string bench_table(const BenchReport& r) {
  std::string out = fmt::format("{:<18} {:>10} {:>10} {:>10} {:>10}  {}\n", "figure",
                                "median ms", "min ms", "max ms", "cpu ms", "note");
  for (const BenchFigure& f : r.figures)
    out += fmt::format("{:<18} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f}  {}\n", f.name,
                       f.median_ms, f.min_ms, f.max_ms, f.cpu_ms, f.note);
  out += fmt::format("peak RSS after the LoRA steps: {:.0f} MiB; threads: {}\n", r.peak_rss_mib,
                     r.threads);
  return out;
}

std::string bench_json(const BenchReport& r) {
  nlohmann::json j = {{"threads", r.threads},
                      {"generate_tokens_per_s", r.generate_tokens_per_s},
                      {"peak_rss_mib", r.peak_rss_mib}};
  for (const BenchFigure& f : r.figures) {
    j[f.name + "_ms"] = f.median_ms;
    j["figures"][f.name] = {{"median_ms", f.median_ms}, {"min_ms", f.min_ms},
                            {"max_ms", f.max_ms}, {"cpu_ms", f.cpu_ms}, {"note", f.note}};
  }
  return j.dump(2);
}

}  // namespace ls
