#pragma once
// Fused transformer kernels: causal multi-head attention and the LM head + cross-entropy.
// Each is a forward/backward pair, like the layers of llm.c, so that the autograd wrappers
// stay thin and the big intermediate tensors are never materialised twice. gpt2/reference.h
// writes what each computes as plain autograd ops.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ls::ops {

// Causal multi-head attention over packed projections.
// qkv: (B, T, 3C) laid out [q | k | v], heads split C into H slices of D = C/H.
// Returns (B, T, C); `probs` receives the attention weights (B, H, T, T) for backward.
Tensor attention(const Tensor& qkv, int64_t n_head, Tensor* probs);
// d(qkv) (B, T, 3C) from d(out) (B, T, C).
Tensor attention_backward(const Tensor& qkv, const Tensor& probs, const Tensor& dout,
                          int64_t n_head);

// Attention of new queries against cached keys/values (generation): q (B, Tq, C),
// k and v (B, Tk, C) with Tk ≥ Tq; query i sits at key position Tk − Tq + i. Returns (B, Tq, C).
Tensor attention_cached(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_head);

// Mean next-token cross-entropy of logits = hidden (N, C) · weight (V, C)ᵀ, computed in row
// chunks so the (N, V) logits never exist at once. Targets equal to ignore_index do not count.
struct LmHeadLoss {
  float loss = 0.0f;  // mean over counted rows
  int64_t counted = 0;
  double total_nll = 0.0;
};
LmHeadLoss lm_head_loss(const Tensor& hidden, const Tensor& weight,
                        const std::vector<int32_t>& targets, int32_t ignore_index);
// The loss and, in the same pass, its gradients d(loss)/d(hidden) into *dhidden and
// d(loss)/d(weight) added into *dweight (either may be null): training needs both, and this
// computes the logits once instead of again in backward.
LmHeadLoss lm_head_loss_with_grads(const Tensor& hidden, const Tensor& weight,
                                   const std::vector<int32_t>& targets, int32_t ignore_index,
                                   Tensor* dhidden, Tensor* dweight);
// Gradients for loss · grad_scale (grad_scale = upstream gradient / counted rows). dweight
// is accumulated into when non-null.
Tensor lm_head_loss_backward(const Tensor& hidden, const Tensor& weight,
                             const std::vector<int32_t>& targets, int32_t ignore_index,
                             float grad_scale, Tensor* dweight);

}  // namespace ls::ops
