#include "experiments/bench/memory_bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "tensor/parallel.h"

namespace ls {

namespace {

// Sixteen lanes, so that the loop vectorises and reading is the only limit.
float sum_of(const float* x, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  for (; i < n; ++i) acc[0] += x[i];
  float total = 0.0f;
  for (float a : acc) total += a;
  return total;
}

}  // namespace

double read_bandwidth(int64_t bytes, int repeats) {
  auto n = static_cast<int64_t>(bytes / sizeof(float));
  std::vector<float> data(static_cast<size_t>(n), 1.0f);
  constexpr int64_t kChunk = 1 << 16;  // floats a task sums
  std::atomic<int64_t> sink{0};        // the sums are used, so no pass is optimised away
  double best = 0.0;
  for (int pass = 0; pass <= repeats; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    parallel_for((n + kChunk - 1) / kChunk, 1, [&](int64_t lo, int64_t hi) {
      float s = 0.0f;
      for (int64_t c = lo; c < hi; ++c)
        s += sum_of(data.data() + c * kChunk, std::min(kChunk, n - c * kChunk));
      sink += static_cast<int64_t>(s);
    });
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass > 0) best = std::max(best, static_cast<double>(n * sizeof(float)) / seconds);
  }
  return sink.load() > 0 ? best : 0.0;
}

}  // namespace ls
