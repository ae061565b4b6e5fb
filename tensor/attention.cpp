// The fused form of reference::attention (gpt2/reference.h), which runs as separate ops:
// slice qkv → reshape + permute q, k, v to (B,H,T,D) → matmul q·kᵀ → scale by 1/√D → causal
// softmax → matmul ·v → permute + reshape to (B,T,C). Both keep the same for backward: q, k
// and v (here qkv itself, there its head-major copies) and the (B,H,T,T) probabilities. What
// fusing saves is passes and temporaries:
// - forward: no copies of q, k, v or of the output; the scores are scaled inside the GEMM
//   (alpha) and softmaxed in place in the probability buffer, where the reference makes two
//   more (B,H,T,T) tensors, the raw and the scaled scores;
// - backward: d(qkv) is written in one tensor, not as three zero-padded slice gradients
//   summed, and no transposed gradient is copied;
// - both ways, only the keys a query can see are multiplied (below).
//
// Causal multi-head attention on strided views of the packed qkv tensor: q, k and v of one
// head are read in place (row stride 3C) by sgemm, and the output is written in place into
// (B, T, C), so no head is ever copied out.
//
// Queries go in blocks of kBlock rows, and a block multiplies only the keys it can see, so the
// masked upper triangle of the score matrix is never computed (about half the FLOPs at
// T = 256). Entries of the probabilities past the diagonal are stored as zeros.
#include <cmath>

#include "tensor/error.h"
#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/vmath.h"

namespace ls::ops {

namespace {

constexpr int64_t kBlock = 32;

struct Heads {
  int64_t b, tq, tk, h, d;
};

// Softmax of score rows [i0, i1) of a (tq, tk) matrix in place, with the causal mask: query i
// sees keys up to i + tk − tq, and the rest of its row becomes zero.
void causal_softmax_rows(float* s, int64_t i0, int64_t i1, int64_t tq, int64_t tk) {
  for (int64_t i = i0; i < i1; ++i) {
    float* row = s + i * tk;
    int64_t valid = i + (tk - tq) + 1;
    vmath::softmax_inplace(row, valid);
    std::fill(row + valid, row + tk, 0.0f);
  }
}

// out[b, :, h] = softmax(q kᵀ / √D) v for every (b, h); probs (B, H, Tq, Tk).
void attention_heads(const float* q, int64_t q_row, int64_t q_batch, const float* k, const float* v,
                     int64_t kv_row, int64_t kv_batch, float* out, float* probs, const Heads& s) {
  float scale = 1.0f / std::sqrt(static_cast<float>(s.d));
  int64_t c = s.h * s.d;
  parallel_for(s.b * s.h, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bh = lo; bh < hi; ++bh) {
      int64_t b = bh / s.h, h = bh % s.h;
      float* p = probs + bh * s.tq * s.tk;
      const float* qh = q + b * q_batch + h * s.d;
      const float* kh = k + b * kv_batch + h * s.d;
      const float* vh = v + b * kv_batch + h * s.d;
      float* oh = out + b * s.tq * c + h * s.d;
      for (int64_t i0 = 0; i0 < s.tq; i0 += kBlock) {
        int64_t i1 = std::min(i0 + kBlock, s.tq), rows = i1 - i0, keys = i1 + s.tk - s.tq;
        float* pb = p + i0 * s.tk;
        gemm(false, true, rows, keys, s.d, scale, qh + i0 * q_row, q_row, kh, kv_row, 0.0f, pb,
             s.tk);
        causal_softmax_rows(p, i0, i1, s.tq, s.tk);
        gemm(false, false, rows, s.d, keys, 1.0f, pb, s.tk, vh, kv_row, 0.0f, oh + i0 * c, c);
      }
    }
  });
}

}  // namespace

Tensor attention(const Tensor& qkv_in, int64_t n_head, Tensor* probs) {
  Tensor qkv = qkv_in.contiguous();
  int64_t b = qkv.size(0), t = qkv.size(1), c = qkv.size(2) / 3;
  LS_CHECK(qkv.size(2) == 3 * c && c % n_head == 0, "attention input {} with {} heads",
           qkv.shape_str(), n_head);
  Heads s{b, t, t, n_head, c / n_head};
  Tensor out = Tensor::empty({b, t, c});
  Tensor p = Tensor::empty({b, n_head, t, t});
  const float* base = qkv.data();
  attention_heads(base, 3 * c, t * 3 * c, base + c, base + 2 * c, 3 * c, t * 3 * c, out.data(),
                  p.data(), s);
  if (probs) *probs = p;
  return out;
}

Tensor attention_cached(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                        int64_t n_head) {
  Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
  int64_t b = q.size(0), tq = q.size(1), c = q.size(2), tk = k.size(1);
  LS_CHECK(tk >= tq && k.shape() == v.shape() && c % n_head == 0, "cached attention shapes");
  Heads s{b, tq, tk, n_head, c / n_head};
  Tensor out = Tensor::empty({b, tq, c});
  Tensor p = Tensor::empty({b, n_head, tq, tk});
  attention_heads(q.data(), c, tq * c, k.data(), v.data(), c, tk * c, out.data(), p.data(), s);
  return out;
}

// With P lower triangular, key block [j0, j1) gets contributions only from queries i ≥ j0,
// and query block [i0, i1) only from keys j < i1; each product below is cut to those ranges.
Tensor attention_backward(const Tensor& qkv_in, const Tensor& probs, const Tensor& dout_in,
                          int64_t n_head) {
  Tensor qkv = qkv_in.contiguous(), dout = dout_in.contiguous();
  int64_t b = qkv.size(0), t = qkv.size(1), c = qkv.size(2) / 3, d = c / n_head;
  float scale = 1.0f / std::sqrt(static_cast<float>(d));
  Tensor dqkv = Tensor::empty(qkv.shape());
  const float* base = qkv.data();
  float* dbase = dqkv.data();
  int64_t row = 3 * c;
  parallel_for(b * n_head, 1, [&](int64_t lo, int64_t hi) {
    Tensor scores = Tensor::empty({t, t});  // dscores of one head, reused
    float* ds = scores.data();
    for (int64_t bh = lo; bh < hi; ++bh) {
      int64_t bi = bh / n_head, h = bh % n_head;
      const float* p = probs.data() + bh * t * t;
      const float* q = base + bi * t * row + h * d;
      const float* k = q + c;
      const float* v = q + 2 * c;
      const float* dout_h = dout.data() + bi * t * c + h * d;
      float* dq = dbase + bi * t * row + h * d;
      float* dk = dq + c;
      float* dv = dq + 2 * c;
      for (int64_t j0 = 0; j0 < t; j0 += kBlock) {  // dv = pᵀ dout
        int64_t j1 = std::min(j0 + kBlock, t);
        gemm(true, false, j1 - j0, d, t - j0, 1.0f, p + j0 * t + j0, t, dout_h + j0 * c, c, 0.0f,
             dv + j0 * row, row);
      }
      for (int64_t i0 = 0; i0 < t; i0 += kBlock) {
        int64_t i1 = std::min(i0 + kBlock, t);
        gemm(false, true, i1 - i0, i1, d, 1.0f, dout_h + i0 * c, c, v, row, 0.0f, ds + i0 * t,
             t);                             // dp = dout vᵀ
        for (int64_t i = i0; i < i1; ++i) {  // softmax backward, zero past the diagonal
          const float* pr = p + i * t;
          float* dr = ds + i * t;
          float dot = 0.0f;
          for (int64_t j = 0; j <= i; ++j) dot += pr[j] * dr[j];
          for (int64_t j = 0; j <= i; ++j) dr[j] = pr[j] * (dr[j] - dot) * scale;
          std::fill(dr + i + 1, dr + i1, 0.0f);
        }
        gemm(false, false, i1 - i0, d, i1, 1.0f, ds + i0 * t, t, k, row, 0.0f, dq + i0 * row,
             row);  // dq = ds k
      }
      for (int64_t j0 = 0; j0 < t; j0 += kBlock) {  // dk = dsᵀ q
        int64_t j1 = std::min(j0 + kBlock, t);
        gemm(true, false, j1 - j0, d, t - j0, 1.0f, ds + j0 * t + j0, t, q + j0 * row, row, 0.0f,
             dk + j0 * row, row);
      }
    }
  });
  return dqkv;
}

}  // namespace ls::ops
