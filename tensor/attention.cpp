// Causal multi-head attention on strided views of the packed qkv tensor: q, k and v of one
// head are read in place (row stride 3C) by sgemm, and the output is written in place into
// (B, T, C), so no head is ever copied out.
#include <cmath>

#include "tensor/error.h"
#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ls::ops {

namespace {

struct Heads {
  int64_t b, tq, tk, h, d;
};

// softmax over each row of scores (tq, tk) in place, with the causal mask.
void causal_softmax_rows(float* s, int64_t tq, int64_t tk) {
  for (int64_t i = 0; i < tq; ++i) {
    float* row = s + i * tk;
    int64_t valid = i + (tk - tq) + 1;
    float mx = row[0];
    for (int64_t j = 1; j < valid; ++j) mx = std::max(mx, row[j]);
    float total = 0.0f;
    for (int64_t j = 0; j < valid; ++j) total += (row[j] = std::exp(row[j] - mx));
    float inv = 1.0f / total;
    for (int64_t j = 0; j < valid; ++j) row[j] *= inv;
    for (int64_t j = valid; j < tk; ++j) row[j] = 0.0f;
  }
}

// out[b, :, h] = softmax(q kᵀ / √D) v for every (b, h); probs (B, H, Tq, Tk).
void attention_heads(const float* q, int64_t q_row, int64_t q_batch, const float* k,
                     const float* v, int64_t kv_row, int64_t kv_batch, float* out,
                     float* probs, const Heads& s) {
  float scale = 1.0f / std::sqrt(static_cast<float>(s.d));
  int64_t c = s.h * s.d;
  parallel_for(s.b * s.h, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bh = lo; bh < hi; ++bh) {
      int64_t b = bh / s.h, h = bh % s.h;
      float* p = probs + bh * s.tq * s.tk;
      const float* qh = q + b * q_batch + h * s.d;
      const float* kh = k + b * kv_batch + h * s.d;
      const float* vh = v + b * kv_batch + h * s.d;
      gemm(false, true, s.tq, s.tk, s.d, scale, qh, q_row, kh, kv_row, 0.0f, p, s.tk);
      causal_softmax_rows(p, s.tq, s.tk);
      gemm(false, false, s.tq, s.d, s.tk, 1.0f, p, s.tk, vh, kv_row, 0.0f,
           out + b * s.tq * c + h * s.d, c);
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

Tensor attention_backward(const Tensor& qkv_in, const Tensor& probs, const Tensor& dout_in,
                          int64_t n_head) {
  Tensor qkv = qkv_in.contiguous(), dout = dout_in.contiguous();
  int64_t b = qkv.size(0), t = qkv.size(1), c = qkv.size(2) / 3, d = c / n_head;
  float scale = 1.0f / std::sqrt(static_cast<float>(d));
  Tensor dqkv = Tensor::empty(qkv.shape());
  Tensor dscores = Tensor::empty({b * n_head, t, t});
  const float* base = qkv.data();
  float* dbase = dqkv.data();
  int64_t row = 3 * c;
  parallel_for(b * n_head, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bh = lo; bh < hi; ++bh) {
      int64_t bi = bh / n_head, h = bh % n_head;
      const float* p = probs.data() + bh * t * t;
      float* ds = dscores.data() + bh * t * t;
      const float* q = base + bi * t * row + h * d;
      const float* k = q + c;
      const float* v = q + 2 * c;
      const float* dout_h = dout.data() + bi * t * c + h * d;
      float* dq = dbase + bi * t * row + h * d;
      float* dk = dq + c;
      float* dv = dq + 2 * c;
      gemm(true, false, t, d, t, 1.0f, p, t, dout_h, c, 0.0f, dv, row);      // dv = pᵀ dout
      gemm(false, true, t, t, d, 1.0f, dout_h, c, v, row, 0.0f, ds, t);      // dp = dout vᵀ
      for (int64_t i = 0; i < t; ++i) {                                       // softmax backward
        const float* pr = p + i * t;
        float* dr = ds + i * t;
        float dot = 0.0f;
        for (int64_t j = 0; j <= i; ++j) dot += pr[j] * dr[j];
        for (int64_t j = 0; j < t; ++j) dr[j] = j <= i ? pr[j] * (dr[j] - dot) * scale : 0.0f;
      }
      gemm(false, false, t, d, t, 1.0f, ds, t, k, row, 0.0f, dq, row);       // dq = ds k
      gemm(true, false, t, d, t, 1.0f, ds, t, q, row, 0.0f, dk, row);        // dk = dsᵀ q
    }
  });
  return dqkv;
}

}  // namespace ls::ops
