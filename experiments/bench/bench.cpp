#include "experiments/bench/bench.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "experiments/bench/memory_bandwidth.h"
#include "gpt2/generate.h"
#include "gpt2/training/data_parallel.h"
#include "lora/compose.h"
#include "lora/interference_probe.h"
#include "lora/lora.h"
#include "lora/similarity.h"
#include "nn/optim.h"
#include "tensor/distributed.h"
#include "tensor/gemm_library.h"
#include "tensor/gemm_record.h"
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
  o.gen_tokens =
      static_cast<int>(std::clamp<int64_t>(config.n_positions - kPromptTokens, 1, o.gen_tokens));
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
std::vector<std::shared_ptr<LoraAdapter>> trained_like(GPT2& model, const BenchOptions& o,
                                                       int count) {
  std::vector<std::shared_ptr<LoraAdapter>> out;
  Rng rng(7);
  for (int i = 0; i < count; ++i) {
    out.push_back(LoraAdapter::create(model, lora_config(o), 100 + i));
    for (auto& [name, layer] : out.back()->layers())
      layer->B.copy_from(rand_normal(layer->B.shape(), 0.0f, 0.02f, rng));
  }
  return out;
}

std::vector<AdapterFactors> trained_like_adapters(GPT2& model, const BenchOptions& o, int count) {
  std::vector<AdapterFactors> out;
  for (auto& adapter : trained_like(model, o, count))
    out.push_back(AdapterFactors::of(*adapter, fmt::format("adapter{}", out.size())));
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

namespace {

// The model every figure runs on and the batch both training figures step on.
struct BenchModel {
  BenchOptions o;  // fitted to the model's context
  GPT2 model;
  std::vector<int32_t> ids, targets;  // (batch, seq)
};

// Replays the products one run of fn multiplies, timed: how long the GEMM library alone takes
// for them, the yardstick of the figure (its time over theirs is what the rest costs).
void add_gemm_yardstick(BenchFigure& f, int steps, const std::function<void()>& fn) {
  std::vector<GemmShape> shapes;
  {
    GemmRecording recording;
    fn();
    shapes = recording.shapes();
  }
  double flops = 0;
  BenchFigure g = time_it("gemm", steps, [&] { flops = replay_gemms(shapes); });
  f.gemm_ms = g.median_ms;
  f.gemm_gflops = flops / (g.median_ms / 1e3) / 1e9;
  f.note += fmt::format("; its GEMMs alone {:.0f} ms ({:.0f} GFLOP/s): {:.0f} % of GEMM speed",
                        f.gemm_ms, f.gemm_gflops, 100.0 * f.gemm_ms / f.median_ms);
}

BenchFigure lora_train_step(BenchModel& m) {
  const BenchOptions& o = m.o;
  m.model.set_requires_grad(false);
  auto adapter = LoraAdapter::create(m.model, lora_config(o), 1);
  adapter->attach(m.model);
  AdamW opt(adapter->parameters(), {});
  m.model.set_training(true);
  auto step = [&] { train_step(m.model, opt, m.ids, m.targets, o.batch, o.seq); };
  BenchFigure f = time_it("lora_train_step", o.steps, step);
  f.note = fmt::format("B={} T={} r={} {}{}, {:.0f} tok/s", o.batch, o.seq, o.rank,
                       fmt::join(o.targets, ","),
                       o.dropout > 0 ? fmt::format(" dropout {}", o.dropout) : "",
                       o.batch * o.seq / (f.median_ms / 1000.0));
  add_gemm_yardstick(f, o.steps, step);
  adapter->detach(m.model);
  return f;
}

// Under mpirun: what data parallelism adds to each step.
BenchFigure gradient_sum(BenchModel& m) {
  auto adapter = LoraAdapter::create(m.model, lora_config(m.o), 1);
  std::vector<Tensor> params = adapter->parameters();
  int64_t floats = 0;
  for (const Tensor& p : params) {
    p.impl()->grad = Tensor::ones(p.shape()).impl_ptr();
    floats += p.numel();
  }
  BenchFigure f = time_it("gradient_sum", m.o.steps, [&] { sum_gradients(params); });
  f.note = fmt::format("LoRA gradients, {} floats, over {} MPI rank(s)", floats, world::size());
  return f;
}

BenchFigure eval_forward(BenchModel& m) {
  const BenchOptions& o = m.o;
  int64_t v = m.model.config().vocab_size;
  std::vector<int32_t> eids = random_ids(o.eval_batch * o.eval_seq, v, 3);
  std::vector<int32_t> etg = random_ids(o.eval_batch * o.eval_seq, v, 4);
  m.model.set_training(false);
  auto forward = [&] { m.model.nll(eids, etg, o.eval_batch, o.eval_seq); };
  BenchFigure f = time_it("eval_forward", o.steps, forward);
  f.note = fmt::format("B={} T={}, no grad", o.eval_batch, o.eval_seq);
  add_gemm_yardstick(f, o.steps, forward);
  return f;
}

// Bytes of the weight matrices a generated token reads: the blocks' and the tied LM head's
// (wte), not wpe's single row, the vectors or the KV cache.
double weight_bytes_per_token(const GPT2& model, Precision precision) {
  double elements = 0;
  for (auto& [name, p] : model.named_parameters())
    if (p.dim() == 2 && name != "wpe.weight") elements += static_cast<double>(p.numel());
  return elements * (precision == Precision::bf16 ? 2.0 : 4.0);
}

// Greedy decoding of gen_tokens after a random prompt, as `generate --precision` runs it (bf16
// weights, float32 activations); *tokens_per_s gets its rate. The note compares it with the
// most the memory's read bandwidth allows.
BenchFigure generation(BenchModel& m, double* tokens_per_s) {
  const BenchOptions& o = m.o;
  GenerateOptions g;
  g.temperature = 0.0f;
  g.max_new_tokens = o.gen_tokens;
  std::vector<int32_t> prompt = random_ids(kPromptTokens, m.model.config().vocab_size, 5);
  m.model.keep_bf16_weights(o.precision == Precision::bf16);
  PrecisionScope activations(Precision::f32);
  BenchFigure f =
      time_it("generate", std::max(1, o.steps / 2), [&] { generate(m.model, prompt, g); });
  m.model.keep_bf16_weights(false);
  *tokens_per_s = o.gen_tokens / (f.median_ms / 1000.0);
  constexpr int64_t kBandwidthBytes = int64_t{512} << 20;
  double bandwidth = read_bandwidth(kBandwidthBytes, 3);
  double bytes = weight_bytes_per_token(m.model, o.precision);
  f.note = fmt::format(
      "{} tokens, KV cache, {} weights, {:.1f} tok/s; {:.1f} MB of weights a token at {:.1f} "
      "GB/s read bandwidth: at most {:.1f} tok/s",
      o.gen_tokens, precision_name(o.precision), *tokens_per_s, bytes / 1e6, bandwidth / 1e9,
      bandwidth / bytes);
  return f;
}

BenchFigure full_train_step(BenchModel& m) {
  const BenchOptions& o = m.o;
  m.model.set_requires_grad(true);
  AdamW opt(m.model.parameters(), {});
  m.model.set_training(true);
  auto step = [&] { train_step(m.model, opt, m.ids, m.targets, o.batch, o.seq); };
  BenchFigure f = time_it("full_train_step", o.steps, step);
  f.note = fmt::format("B={} T={}, all parameters", o.batch, o.seq);
  add_gemm_yardstick(f, o.steps, step);
  return f;
}

std::string adapter_shape(const BenchOptions& o) {
  return fmt::format("r={} {}", o.rank, fmt::join(o.targets, ","));
}

BenchFigure merge(BenchModel& m) {
  std::vector<AdapterFactors> adapters = trained_like_adapters(m.model, m.o, 3);
  BenchFigure f = time_it("merge", m.o.steps, [&] {
    compose_into(m.model, adapters, MergeOptions{});  // the plain sum, into the weights
  });
  f.note = "sum of 3 adapters merged into the model, " + adapter_shape(m.o);
  return f;
}

BenchFigure similarity(BenchModel& m) {
  std::vector<AdapterFactors> adapters = trained_like_adapters(m.model, m.o, 2);
  BenchFigure f =
      time_it("similarity", m.o.steps, [&] { adapter_similarity(adapters[0], adapters[1]); });
  f.note = "2 adapters, " + adapter_shape(m.o);
  return f;
}

// A domain's probe as `predictors` reads it by default: 64 examples of the training length,
// the second half of each the answer, in batches of 8.
ProbeData random_probe(const BenchOptions& o, int64_t vocab, uint64_t seed) {
  constexpr int kExamples = 64;
  ProbeData d{{}, 8, o.seq};
  for (int i = 0; i < kExamples; ++i)
    d.examples.push_back(
        {random_ids(o.seq, vocab, seed + static_cast<uint64_t>(i)), o.seq / 2, {}});
  return d;
}

// Every data-aware predictor of one pair (`similarity --data`, `predictors`): the module
// inputs, both domains' gradients and ξ, each on its own domain's probe.
BenchFigure interference(BenchModel& m) {
  auto adapters = trained_like(m.model, m.o, 2);
  int64_t vocab = m.model.config().vocab_size;
  ProbeData a = random_probe(m.o, vocab, 1000), b = random_probe(m.o, vocab, 2000);
  m.model.set_training(false);
  BenchFigure f = time_it("interference", std::max(1, m.o.steps / 5),
                          [&] { pair_interference(m.model, *adapters[0], *adapters[1], a, b); });
  f.note = fmt::format("1 pair, {} examples of {} tokens per domain, {}", a.examples.size(),
                       m.o.seq, adapter_shape(m.o));
  return f;
}

}  // namespace

// The figures run in a fixed order on one model, which some of them change (training mode,
// requires_grad, merged weights).
BenchReport run_bench(const BenchOptions& options) {
  set_num_threads(options.threads);
  PrecisionScope precision(options.precision);
  BenchReport report;
  report.threads = num_threads();
  report.gemm_library = gemm_library_name(gemm_library());
  report.precision = precision_name(options.precision);
  GPT2Config config = GPT2Config::preset(options.config);
  config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.0f;
  BenchOptions o = fit_context(options, config);
  int64_t tokens = o.batch * o.seq;
  BenchModel m{o, GPT2(config, 0), random_ids(tokens, config.vocab_size, 1),
               random_ids(tokens, config.vocab_size, 2)};
  if (wanted(o, "lora_train_step")) report.figures.push_back(lora_train_step(m));
  report.peak_rss_mib = peak_rss_mib();
  if (wanted(o, "gradient_sum")) report.figures.push_back(gradient_sum(m));
  if (wanted(o, "eval_forward")) report.figures.push_back(eval_forward(m));
  if (wanted(o, "generate")) report.figures.push_back(generation(m, &report.generate_tokens_per_s));
  if (wanted(o, "full_train_step")) report.figures.push_back(full_train_step(m));
  if (wanted(o, "merge")) report.figures.push_back(merge(m));
  if (wanted(o, "similarity")) report.figures.push_back(similarity(m));
  if (wanted(o, "interference")) report.figures.push_back(interference(m));
  return report;
}

std::string bench_table(const BenchReport& r) {
  std::string out = fmt::format("{:<18} {:>10} {:>10} {:>10} {:>10}  {}\n", "figure", "median ms",
                                "min ms", "max ms", "cpu ms", "note");
  for (const BenchFigure& f : r.figures)
    out += fmt::format("{:<18} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f}  {}\n", f.name, f.median_ms,
                       f.min_ms, f.max_ms, f.cpu_ms, f.note);
  out += fmt::format("peak RSS after the LoRA steps: {:.0f} MiB; threads: {}; GEMMs: {}, {}\n",
                     r.peak_rss_mib, r.threads, r.gemm_library, r.precision);
  return out;
}

std::string bench_json(const BenchReport& r) {
  nlohmann::json j = {{"threads", r.threads},
                      {"generate_tokens_per_s", r.generate_tokens_per_s},
                      {"peak_rss_mib", r.peak_rss_mib},
                      {"gemm_library", r.gemm_library},
                      {"precision", r.precision}};
  for (const BenchFigure& f : r.figures) {
    j[f.name + "_ms"] = f.median_ms;
    j["figures"][f.name] = {{"median_ms", f.median_ms},
                            {"min_ms", f.min_ms},
                            {"max_ms", f.max_ms},
                            {"cpu_ms", f.cpu_ms},
                            {"note", f.note}};
    if (f.gemm_ms > 0)
      j["figures"][f.name].update({{"gemm_ms", f.gemm_ms},
                                   {"gemm_gflops", f.gemm_gflops},
                                   {"gemm_fraction", f.gemm_ms / f.median_ms}});
  }
  return j.dump(2);
}

}  // namespace ls
