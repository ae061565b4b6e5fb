// The reference path, llm.c style: each line one op, with the shape it leaves.
#include "gpt2/reference.h"

#include <cmath>

namespace ls::reference {

namespace {

// (B,T,C) -> (B,H,T,D): head h takes channels [h·D, (h+1)·D).
Tensor split_heads(const Tensor& x, int64_t n_head) {
  int64_t b = x.size(0), t = x.size(1), c = x.size(2);
  Tensor heads = ag::reshape(x, {b, t, n_head, c / n_head});  // (B,T,H,D)
  return ag::permute(heads, {0, 2, 1, 3});                    // (B,H,T,D)
}

// (B,H,T,D) -> (B,T,C): the inverse of split_heads.
Tensor merge_heads(const Tensor& x) {
  int64_t b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
  Tensor rows = ag::permute(x, {0, 2, 1, 3});  // (B,T,H,D)
  return ag::reshape(rows, {b, t, h * d});     // (B,T,C)
}

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_head) {
  Tensor qh = split_heads(q, n_head);  // (B,H,Tq,D)
  Tensor kh = split_heads(k, n_head);  // (B,H,Tk,D)
  Tensor vh = split_heads(v, n_head);  // (B,H,Tk,D)
  float inv_sqrt_d = 1.0f / std::sqrt(static_cast<float>(qh.size(3)));
  Tensor scores = ag::matmul(qh, ag::transpose(kh, 2, 3));  // (B,H,Tq,Tk) = q·kᵀ
  scores = ag::scale(scores, inv_sqrt_d);                   // (B,H,Tq,Tk), / √D
  // Causal: each query's weights over the keys it may see, exact zeros past them.
  Tensor probs = ag::softmax(scores, /*causal=*/true);  // (B,H,Tq,Tk)
  Tensor out = ag::matmul(probs, vh);                   // (B,H,Tq,D)
  return merge_heads(out);                              // (B,Tq,C)
}

Tensor attention(const Tensor& qkv, int64_t n_head) {
  int64_t c = qkv.size(2) / 3;
  Tensor q = ag::slice(qkv, 2, 0, c);          // (B,T,C)
  Tensor k = ag::slice(qkv, 2, c, 2 * c);      // (B,T,C)
  Tensor v = ag::slice(qkv, 2, 2 * c, 3 * c);  // (B,T,C)
  return attention(q, k, v, n_head);
}

Tensor lm_head_loss(const Tensor& hidden, const Tensor& head, const std::vector<int32_t>& targets,
                    int32_t ignore_index) {
  Tensor rows = ag::reshape(hidden, {-1, hidden.size(-1)});     // (N,C)
  Tensor logits = ag::matmul(rows, ag::transpose(head, 0, 1));  // (N,V)
  return ag::cross_entropy(logits, targets, ignore_index);      // () mean over counted rows
}

}  // namespace ls::reference
