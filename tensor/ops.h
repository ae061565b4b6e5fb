#pragma once
// Tensor kernels: plain forward and backward computations, no autograd.
//
// Every op returns a new contiguous tensor and accepts any strided input. Row-wise and
// elementwise kernels run in parallel with oneTBB; each output element is computed by exactly
// one task in a fixed order, so results do not depend on the number of threads.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ls {
// Targets with this value do not count in a loss (PyTorch's default ignore_index): the
// question of a QA example and the padding of a batch.
constexpr int32_t kIgnoreIndex = -100;
}  // namespace ls

namespace ls::ops {

// ---- elementwise (NumPy broadcasting) -------------------------------------------------
Shape broadcast_shapes(const Shape& a, const Shape& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, float s);       // a * s
Tensor add_scalar(const Tensor& a, float s);  // a + s
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor gelu(const Tensor& x);                             // tanh approximation (gelu_new)
Tensor gelu_backward(const Tensor& x, const Tensor& dy);  // dy * gelu'(x)
// Inverted dropout by counter: element i is zeroed when a hash of (key, i) falls below p·2³²,
// and kept elements are scaled by 1/(1 - p). An element's fate depends only on (key, i), so the
// mask is the same on any number of threads and is never stored: the backward pass is this
// same function applied to the upstream gradient. `first_index` shifts the counter, so that a
// slice of a larger tensor gets the masks the whole tensor would (data-parallel shards).
Tensor dropout(const Tensor& x, float p, uint64_t key, int64_t first_index = 0);
// Adds src into dst in place (same shape); used to accumulate gradients.
void add_into(const Tensor& dst, const Tensor& src);

// ---- reductions ---------------------------------------------------------------------
Tensor sum(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor mean(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor max(const Tensor& a, int64_t axis, bool keepdim = false);
Tensor sum_all(const Tensor& a);  // scalar, accumulated in double
// Sums a broadcast result back down to `shape` (the gradient of broadcasting).
Tensor sum_to(const Tensor& g, const Shape& shape);
// Expands a to `shape` by broadcasting (a copy).
Tensor broadcast_to(const Tensor& a, const Shape& shape);

// ---- matrix products (OpenBLAS or oneDNN, tensor/gemm_library.h; transposes are flags) ---
// op(X) is X or, with its flag, Xᵀ.
struct GemmOptions {
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 0.0f;
};
// C = alpha · op(A)·op(B) + beta · C, written into the 2-D view C. Each operand's rows must be
// contiguous (inner stride 1); its row stride is the leading dimension, so a column slice of a
// wider matrix is passed without a copy. With beta = 0, C is not read.
void gemm(const Tensor& c, const Tensor& a, const Tensor& b, GemmOptions o = {});
// The same on raw row-major buffers: C[M,N] = alpha * op(A) op(B) + beta * C.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
// (..., M, K) @ (..., K, N) -> (..., M, N) with broadcast batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- rows of the last axis -----------------------------------------------------------
// Softmax over the last axis. With `causal`, the tensor's last two axes are (query T, key T)
// and key j > query i is masked out.
Tensor softmax(const Tensor& x, bool causal = false);
Tensor softmax_backward(const Tensor& y, const Tensor& dy);  // y = softmax output

struct LayerNormStats {
  Tensor mean, rstd;  // one per row
};
Tensor layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                 LayerNormStats* stats = nullptr);
// Any of dx/dgamma/dbeta may be null when not wanted.
void layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                        const LayerNormStats& stats, Tensor* dx, Tensor* dgamma, Tensor* dbeta);

// ---- embeddings and losses -------------------------------------------------------------
// Rows of weight [V, C] picked by ids; result shape = ids_shape + [C].
Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape);
// dweight[ids[i]] += dy[i] (rows of dy are [C]).
void embedding_backward(const Tensor& dy, const std::vector<int32_t>& ids, const Tensor& dweight);

// Mean cross-entropy of logits [N, V] against targets; targets equal to ignore_index do not
// count. `counted` receives the number of counted rows. Returns a scalar (0 if none counted).
Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets,
                     int32_t ignore_index = kIgnoreIndex, int64_t* counted = nullptr);
// d(loss)/d(logits) scaled by `grad_scale` (the upstream gradient / counted rows).
Tensor cross_entropy_backward(const Tensor& logits, const std::vector<int32_t>& targets,
                              int32_t ignore_index, float grad_scale);

}  // namespace ls::ops
