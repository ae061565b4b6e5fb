// LM head fused with softmax cross-entropy, in row chunks: for GPT-2 Small the full logits of
// a B=8, T=256 batch would take 400 MiB, and their gradient as much again.
//
// The fused form of reference::lm_head_loss (gpt2/reference.h): logits (N,V) = hidden (N,C) ·
// weightᵀ, then cross_entropy. The reference keeps the whole (N,V) logits from forward to
// backward, and its backward computes the softmax again into an (N,V) gradient before the two
// gradient GEMMs. Here a chunk of 256 rows × V is the only logits buffer: its softmax is taken
// once, turned in place into (softmax − onehot) · scale and fed to the gradient GEMMs in the
// same pass, while the chunk is still in cache. The gradients thus come out of the forward
// pass, and backward (ag::lm_head_loss) only scales them.
#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/scratch.h"
#include "tensor/vmath.h"

namespace ls::ops {

namespace {

// Rows per chunk: sgemm packs the whole weight once per call, so taller chunks multiply more
// rows per packed element (one thread, GPT-2: 105 GFLOP/s at 128 rows, 121 at 256, 123 at
// 512), while each chunk needs rows × V floats of scratch (200 KiB a row for GPT-2). Fixed,
// not per thread: the chunks are GEMM blocks, and results must not depend on the core count.
constexpr int64_t kChunkRows = 256;

void check_targets(const std::vector<int32_t>& targets, int64_t n, int64_t v, int32_t ignore) {
  LS_CHECK(static_cast<int64_t>(targets.size()) == n, "{} targets for {} rows", targets.size(), n);
  for (int32_t t : targets)
    LS_CHECK(t == ignore || (t >= 0 && t < v), "target {} outside the vocabulary of {}", t, v);
}

// What one pass over the chunks computes besides each row's NLL: with `grads`, the logits
// gradient (softmax − onehot) · grad_scale goes into dhidden rows and is added to dweight.
struct Pass {
  const Tensor& hidden;  // (N, C), contiguous
  const Tensor& weight;  // (V, C), contiguous
  const std::vector<int32_t>& targets;
  int32_t ignore;
  float grad_scale = 0.0f;
  float* dhidden = nullptr;  // (N, C) or null
  Tensor* dweight = nullptr;
  std::vector<double> nll;  // per row; 0 for ignored rows
};

// Rows [r0, r0 + rows) with `logits` as scratch of rows × V floats.
void run_chunk(Pass& p, int64_t r0, int64_t rows, float* logits) {
  int64_t c = p.hidden.size(1), v = p.weight.size(0);
  const float* h = p.hidden.data() + r0 * c;
  gemm(false, true, rows, v, c, 1.0f, h, c, p.weight.data(), c, 0.0f, logits, v);
  bool grads = p.dhidden || p.dweight;
  parallel_for(rows, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* row = logits + r * v;
      int32_t t = p.targets[r0 + r];
      float picked = t == p.ignore ? 0.0f : row[t];
      float lse = vmath::softmax_inplace(row, v);
      if (t != p.ignore) p.nll[r0 + r] = static_cast<double>(lse) - picked;
      if (!grads) continue;
      float s = t == p.ignore ? 0.0f : p.grad_scale;  // dlogits = (p − onehot) · s
      for (int64_t j = 0; j < v; ++j) row[j] *= s;
      if (t != p.ignore) row[t] -= s;
    }
  });
  if (p.dhidden)
    gemm(false, false, rows, c, v, 1.0f, logits, v, p.weight.data(), c, 0.0f, p.dhidden + r0 * c,
         c);
  if (p.dweight) gemm(true, false, v, c, rows, 1.0f, logits, v, h, c, 1.0f, p.dweight->data(), c);
}

// Chunks run in parallel, each on its own scratch, unless dweight is wanted: every chunk adds
// into all of it, so then they run in order with the parallelism inside each kernel.
LmHeadLoss run(Pass& p) {
  int64_t n = p.hidden.size(0), v = p.weight.size(0);
  check_targets(p.targets, n, v, p.ignore);
  p.nll.assign(n, 0.0);
  if (n == 0) return {};
  int64_t rows = std::min(kChunkRows, n), chunks = (n + rows - 1) / rows;
  auto body = [&](int64_t lo, int64_t hi) {
    static ScratchPool pool;
    ScratchPool::Lease logits = pool.take(rows * v);
    for (int64_t i = lo; i < hi; ++i)
      run_chunk(p, i * rows, std::min(rows, n - i * rows), logits.data());
  };
  if (p.dweight)
    body(0, chunks);
  else
    parallel_for(chunks, 1, body);
  LmHeadLoss result;
  for (int64_t r = 0; r < n; ++r) {
    if (p.targets[r] == p.ignore) continue;
    result.total_nll += p.nll[r];
    ++result.counted;
  }
  if (result.counted)
    result.loss = static_cast<float>(result.total_nll / static_cast<double>(result.counted));
  return result;
}

}  // namespace

LmHeadLoss lm_head_loss(const Tensor& hidden_in, const Tensor& weight_in,
                        const std::vector<int32_t>& targets, int32_t ignore_index) {
  Tensor hidden = hidden_in.contiguous(), weight = weight_in.contiguous();
  Pass p{hidden, weight, targets, ignore_index, 0.0f, nullptr, nullptr, {}};
  return run(p);
}

LmHeadLoss lm_head_loss_with_grads(const Tensor& hidden_in, const Tensor& weight_in,
                                   const std::vector<int32_t>& targets, int32_t ignore_index,
                                   Tensor* dhidden, Tensor* dweight) {
  Tensor hidden = hidden_in.contiguous(), weight = weight_in.contiguous();
  int64_t counted =
      std::count_if(targets.begin(), targets.end(), [&](int32_t t) { return t != ignore_index; });
  Pass p{hidden, weight, targets, ignore_index, 0.0f, nullptr, nullptr, {}};
  p.grad_scale = counted ? 1.0f / static_cast<float>(counted) : 0.0f;
  if (dhidden) {
    *dhidden = Tensor::empty(hidden.shape());
    p.dhidden = dhidden->data();
  }
  p.dweight = dweight;
  return run(p);
}

Tensor lm_head_loss_backward(const Tensor& hidden_in, const Tensor& weight_in,
                             const std::vector<int32_t>& targets, int32_t ignore_index,
                             float grad_scale, Tensor* dweight) {
  Tensor hidden = hidden_in.contiguous(), weight = weight_in.contiguous();
  Tensor dhidden = Tensor::empty(hidden.shape());
  Pass p{hidden, weight, targets, ignore_index, 0.0f, nullptr, nullptr, {}};
  p.grad_scale = grad_scale;
  p.dhidden = dhidden.data();
  p.dweight = dweight;
  run(p);
  return dhidden;
}

}  // namespace ls::ops
