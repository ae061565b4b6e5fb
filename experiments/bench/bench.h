#pragma once
// `lorasum bench`: timings of the hot paths on random weights (no files needed).
#include <functional>
#include <string>
#include <vector>

#include "gpt2/model.h"
#include "nn/optim.h"
#include "tensor/precision.h"

namespace ls {

// Token ids drawn uniformly from [0, vocab), seeded.
std::vector<int32_t> random_ids(int64_t n, int64_t vocab, uint64_t seed);
// One optimizer step: forward, fused loss, backward, AdamW.
void train_step(GPT2& model, AdamW& opt, const std::vector<int32_t>& ids,
                const std::vector<int32_t>& targets, int64_t b, int64_t t);

struct BenchOptions {
  std::string config = "gpt2";
  int64_t batch = 4, seq = 128;            // training steps
  int64_t eval_batch = 8, eval_seq = 256;  // no-grad forward
  int steps = 5;                           // timed repetitions after one warm-up
  int threads = 0;                         // 0 = all cores
  std::vector<std::string> targets = {"c_attn"};
  int64_t rank = 4;
  float alpha = 64.0f;
  float dropout = 0.0f;  // LoRA dropout
  int gen_tokens = 64;
  std::vector<std::string> only;         // run only these figures (empty = all)
  Precision precision = Precision::f32;  // of every product
};

struct BenchFigure {
  std::string name;
  double median_ms = 0, min_ms = 0, max_ms = 0;
  double cpu_ms = 0;  // median process CPU time per repetition, all threads
  std::string note;
  // The figure's products replayed alone (median ms) and their rate; 0 when not measured.
  double gemm_ms = 0, gemm_gflops = 0;
};

// Runs fn once to warm up, then `steps` times: median, min and max wall time and the median
// process CPU time, in ms.
BenchFigure time_it(const std::string& name, int steps, const std::function<void()>& fn);

struct BenchReport {
  std::vector<BenchFigure> figures;
  double generate_tokens_per_s = 0;
  double peak_rss_mib = 0;  // after the LoRA training steps (the process peak so far)
  int threads = 0;
  std::string gemm_library, precision;
};

BenchReport run_bench(const BenchOptions& options);
std::string bench_table(const BenchReport& report);
std::string bench_json(const BenchReport& report);

}  // namespace ls
