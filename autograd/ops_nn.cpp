// Autograd for matrix products, neural-net ops and the fused transformer kernels.
#include "autograd/autograd.h"
#include "tensor/error.h"
#include "tensor/parallel.h"

namespace ls::ag {

using Grads = InputGrads;

Tensor matmul(const Tensor& a, const Tensor& b) {
  return record(ops::matmul(a, b), "matmul", {a, b}, [a, b](const Tensor& g, Grads& d) {
    // dA = g Bᵀ and dB = Aᵀ g (transposes are BLAS flags), broadcast batch dims summed away.
    if (d.wants(0)) d[0] = ops::sum_to(ops::matmul(g, b.transpose(-1, -2)), a.shape());
    if (d.wants(1)) d[1] = ops::sum_to(ops::matmul(a.transpose(-1, -2), g), b.shape());
  });
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, bool in_out_layout) {
  int64_t in = x.size(-1);
  int64_t out_features = in_out_layout ? weight.size(1) : weight.size(0);
  LS_CHECK((in_out_layout ? weight.size(0) : weight.size(1)) == in,
           "linear: input width {} does not fit weight {}", in, weight.shape_str());
  LS_CHECK(weight.is_contiguous() && (!bias.defined() || bias.is_contiguous()),
           "linear: weight and bias must be contiguous");
  Tensor x2 = x.contiguous().view({-1, in});
  int64_t rows = x2.size(0);
  Tensor y = Tensor::empty({rows, out_features});
  if (bias.defined())  // y starts as the bias in every row; sgemm adds x·W (beta = 1)
    parallel_for(rows, 16, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r)
        std::copy_n(bias.data(), out_features, y.data() + r * out_features);
    });
  ops::gemm(y, x2, weight, {.trans_b = !in_out_layout, .beta = bias.defined() ? 1.0f : 0.0f});
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  // The input is only needed for the weight gradient: a frozen weight does not keep it alive.
  Tensor saved_x = weight.requires_grad() ? x2 : Tensor();
  return record(
      y.view(out_shape), "linear", {x, weight, bias},
      [saved_x, weight, in_out_layout, rows, in, out_features](const Tensor& g, Grads& d) {
        Tensor g2 = g.contiguous().view({rows, out_features});
        if (d.wants(0)) {  // dx = g Wᵀ (Conv1D) or g W (Linear)
          Tensor dx = Tensor::empty({rows, in});
          ops::gemm(dx, g2, weight, {.trans_b = in_out_layout});
          Shape shape = g.shape();
          shape.back() = in;
          d[0] = dx.view(shape);
        }
        if (d.wants(1)) {  // dW = xᵀ g (Conv1D) or gᵀ x (Linear)
          Tensor dw = Tensor::empty(weight.shape());
          if (in_out_layout)
            ops::gemm(dw, saved_x, g2, {.trans_a = true});
          else
            ops::gemm(dw, g2, saved_x, {.trans_a = true});
          d[1] = dw;
        }
        if (d.wants(2)) d[2] = ops::sum(g2, 0);
      });
}

Tensor softmax(const Tensor& x, bool causal) {
  return record_using_output(
      ops::softmax(x, causal), "softmax", {x},
      [](const Tensor& y, const Tensor& g, Grads& d) { d[0] = ops::softmax_backward(y, g); });
}

Tensor layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  ops::LayerNormStats stats;
  Tensor y = ops::layernorm(x, gamma, beta, eps, &stats);
  return record(y, "layernorm", {x, gamma, beta}, [x, gamma, stats](const Tensor& g, Grads& d) {
    Tensor dx, dgamma, dbeta;
    ops::layernorm_backward(g, x, gamma, stats, d.wants(0) ? &dx : nullptr,
                            d.wants(1) ? &dgamma : nullptr, d.wants(2) ? &dbeta : nullptr);
    d[0] = dx;
    d[1] = dgamma;
    d[2] = dbeta;
  });
}

Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape) {
  return record(ops::embedding(weight, ids, ids_shape), "embedding", {weight},
                [ids, shape = weight.shape()](const Tensor& g, Grads& d) {
                  Tensor dw = Tensor::zeros(shape);
                  ops::embedding_backward(g, ids, dw);
                  d[0] = dw;
                });
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets,
                     int32_t ignore_index) {
  int64_t counted = 0;
  Tensor loss = ops::cross_entropy(logits, targets, ignore_index, &counted);
  return record(loss, "cross_entropy", {logits},
                [logits, targets, ignore_index, counted](const Tensor& g, Grads& d) {
                  float s = counted ? g.item() / static_cast<float>(counted) : 0.0f;
                  d[0] = ops::cross_entropy_backward(logits, targets, ignore_index, s);
                });
}

namespace {
thread_local BatchShard batch_shard;  // the innermost BatchShardScope's on this thread
}

BatchShardScope::BatchShardScope(const BatchShard& shard) : previous_(batch_shard) {
  batch_shard = shard;
}

BatchShardScope::~BatchShardScope() { batch_shard = previous_; }

Tensor dropout(const Tensor& x, float p, Rng& rng) {
  LS_CHECK(p >= 0.0f && p < 1.0f, "dropout probability {} outside [0, 1)", p);
  if (p == 0.0f) return x;
  uint64_t key = rng.next_u64();  // one draw per call: the mask itself is hashed from it
  int64_t first = 0;
  if (batch_shard.first_row > 0) {
    LS_CHECK(x.numel() % batch_shard.rows == 0, "dropout of {} over a shard of {} batch rows",
             x.shape_str(), batch_shard.rows);
    first = batch_shard.first_row * (x.numel() / batch_shard.rows);
  }
  return record(
      ops::dropout(x, p, key, first), "dropout", {x},
      [p, key, first](const Tensor& g, Grads& d) { d[0] = ops::dropout(g, p, key, first); });
}

Tensor attention(const Tensor& qkv, int64_t n_head) {
  Tensor probs;
  Tensor out = ops::attention(qkv, n_head, &probs);
  return record(out, "attention", {qkv}, [qkv, probs, n_head](const Tensor& g, Grads& d) {
    d[0] = ops::attention_backward(qkv, probs, g, n_head);
  });
}

Tensor lm_head_loss(const Tensor& hidden, const Tensor& weight, const std::vector<int32_t>& targets,
                    int32_t ignore_index) {
  Tensor h2 = hidden.contiguous().view({-1, hidden.size(-1)});
  bool want_dh = grad_enabled() && hidden.requires_grad();
  bool want_dw = grad_enabled() && weight.requires_grad();
  if (!want_dh && !want_dw)
    return Tensor::scalar(ops::lm_head_loss(h2, weight, targets, ignore_index).loss);
  // Training: the gradients come out of the forward pass (the logits are computed once), and
  // backward only scales them by the upstream gradient.
  Tensor dh, dw;
  if (want_dw) dw = Tensor::zeros(weight.shape());
  ops::LmHeadLoss r = ops::lm_head_loss_with_grads(
      h2, weight, targets, ignore_index, want_dh ? &dh : nullptr, want_dw ? &dw : nullptr);
  return record(Tensor::scalar(r.loss), "lm_head_loss", {hidden, weight},
                [dh, dw, shape = hidden.shape()](const Tensor& g, Grads& d) {
                  float s = g.item();
                  auto scaled = [s](const Tensor& t) { return s == 1.0f ? t : ops::scale(t, s); };
                  if (d.wants(0)) d[0] = scaled(dh).view(shape);
                  if (d.wants(1)) d[1] = scaled(dw);
                });
}

}  // namespace ls::ag
