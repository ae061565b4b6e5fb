// LM head fused with softmax cross-entropy, in row chunks: for GPT-2 Small the full logits of
// a B=8, T=256 batch would take 400 MiB, and their gradient as much again.
#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ls::ops {

namespace {

constexpr int64_t kChunkRows = 128;

// Logits of rows [r0, r0 + n) into `logits` (n, V).
void chunk_logits(const Tensor& hidden, const Tensor& weight, int64_t r0, int64_t n,
                  float* logits) {
  int64_t c = hidden.size(1), v = weight.size(0);
  gemm(false, true, n, v, c, 1.0f, hidden.data() + r0 * c, c, weight.data(), c, 0.0f, logits, v);
}

// Turns each logits row into softmax probabilities; returns log-sum-exp per row.
void softmax_rows_inplace(float* logits, int64_t n, int64_t v, std::vector<double>* lse) {
  parallel_for(n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* row = logits + r * v;
      float mx = *std::max_element(row, row + v);
      double total = 0.0;
      for (int64_t j = 0; j < v; ++j) total += (row[j] = std::exp(row[j] - mx));
      float inv = static_cast<float>(1.0 / total);
      for (int64_t j = 0; j < v; ++j) row[j] *= inv;
      if (lse) (*lse)[r] = std::log(total) + mx;
    }
  });
}

void check_targets(const std::vector<int32_t>& targets, int64_t n, int64_t v, int32_t ignore) {
  LS_CHECK(static_cast<int64_t>(targets.size()) == n, "{} targets for {} rows", targets.size(), n);
  for (int32_t t : targets)
    LS_CHECK(t == ignore || (t >= 0 && t < v), "target {} outside the vocabulary of {}", t, v);
}

}  // namespace

LmHeadLoss lm_head_loss(const Tensor& hidden_in, const Tensor& weight_in,
                        const std::vector<int32_t>& targets, int32_t ignore_index) {
  Tensor hidden = hidden_in.contiguous(), weight = weight_in.contiguous();
  int64_t n = hidden.size(0), v = weight.size(0);
  check_targets(targets, n, v, ignore_index);
  std::vector<float> logits(kChunkRows * v);
  std::vector<double> lse(kChunkRows);
  LmHeadLoss result;
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows) {
    int64_t rows = std::min(kChunkRows, n - r0);
    chunk_logits(hidden, weight, r0, rows, logits.data());
    std::vector<float> picked(rows);
    for (int64_t r = 0; r < rows; ++r)
      if (targets[r0 + r] != ignore_index) picked[r] = logits[r * v + targets[r0 + r]];
    softmax_rows_inplace(logits.data(), rows, v, &lse);
    for (int64_t r = 0; r < rows; ++r) {
      if (targets[r0 + r] == ignore_index) continue;
      result.total_nll += lse[r] - picked[r];
      ++result.counted;
    }
  }
  if (result.counted)
    result.loss = static_cast<float>(result.total_nll / static_cast<double>(result.counted));
  return result;
}

Tensor lm_head_loss_backward(const Tensor& hidden_in, const Tensor& weight_in,
                             const std::vector<int32_t>& targets, int32_t ignore_index,
                             float grad_scale, Tensor* dweight) {
  Tensor hidden = hidden_in.contiguous(), weight = weight_in.contiguous();
  int64_t n = hidden.size(0), c = hidden.size(1), v = weight.size(0);
  check_targets(targets, n, v, ignore_index);
  Tensor dhidden = Tensor::empty({n, c});
  std::vector<float> dlogits(kChunkRows * v);
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows) {
    int64_t rows = std::min(kChunkRows, n - r0);
    chunk_logits(hidden, weight, r0, rows, dlogits.data());
    softmax_rows_inplace(dlogits.data(), rows, v, nullptr);
    parallel_for(rows, 1, [&](int64_t lo, int64_t hi) {   // dlogits = (p − onehot) · scale
      for (int64_t r = lo; r < hi; ++r) {
        float* row = dlogits.data() + r * v;
        int32_t t = targets[r0 + r];
        if (t == ignore_index) {
          std::fill_n(row, v, 0.0f);
          continue;
        }
        row[t] -= 1.0f;
        for (int64_t j = 0; j < v; ++j) row[j] *= grad_scale;
      }
    });
    gemm(false, false, rows, c, v, 1.0f, dlogits.data(), v, weight.data(), c, 0.0f,
         dhidden.data() + r0 * c, c);
    if (dweight)
      gemm(true, false, v, c, rows, 1.0f, dlogits.data(), v, hidden.data() + r0 * c, c, 1.0f,
           dweight->data(), c);
  }
  return dhidden;
}

}  // namespace ls::ops
