#include "tensor/gemm_record.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/tensor.h"

namespace ls {

namespace {

std::mutex mutex;
std::vector<GemmShape> recorded;
std::atomic<bool> recording{false};

}  // namespace

GemmRecording::GemmRecording() {
  std::lock_guard lock(mutex);
  LS_CHECK(!recording, "one GemmRecording at a time");
  recorded.clear();
  recording = true;
}

GemmRecording::~GemmRecording() { recording = false; }

std::vector<GemmShape> GemmRecording::shapes() const {
  std::lock_guard lock(mutex);
  return recorded;
}

void record_gemm(const GemmShape& shape) {
  if (!recording.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mutex);
  recorded.push_back(shape);
}

double replay_gemms(const std::vector<GemmShape>& shapes) {
  int64_t a_size = 0, b_size = 0, c_size = 0;
  for (const GemmShape& s : shapes) {
    a_size = std::max(a_size, s.m * s.k);
    b_size = std::max(b_size, s.k * s.n);
    c_size = std::max(c_size, s.m * s.n);
  }
  Tensor a = Tensor::full({a_size}, 0.5f), b = Tensor::full({b_size}, 0.25f);
  Tensor c = Tensor::empty({c_size});
  double flops = 0;
  for (const GemmShape& s : shapes) {
    ops::gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0f, a.data(), s.trans_a ? s.m : s.k, b.data(),
              s.trans_b ? s.k : s.n, 0.0f, c.data(), s.n);
    flops += 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  }
  return flops;
}

}  // namespace ls
