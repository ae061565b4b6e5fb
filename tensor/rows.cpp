// Kernels that work on rows of the last axis: softmax, layer norm, embeddings, cross-entropy.
#include <cmath>
#include <limits>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/vmath.h"

namespace ls::ops {

namespace {

int64_t rows_of(const Tensor& t) { return t.numel() / std::max<int64_t>(t.size(-1), 1); }

// softmax of p[0..n) into q[0..n), with entries from `valid` on forced to zero.
void softmax_row(const float* p, float* q, int64_t n, int64_t valid) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < valid; ++j) mx = std::max(mx, p[j]);
  double total = 0.0;
  for (int64_t j = 0; j < valid; ++j) {
    q[j] = std::exp(p[j] - mx);
    total += q[j];
  }
  float inv = static_cast<float>(1.0 / total);
  for (int64_t j = 0; j < valid; ++j) q[j] *= inv;
  for (int64_t j = valid; j < n; ++j) q[j] = 0.0f;
}

}  // namespace

Tensor softmax(const Tensor& x, bool causal) {
  Tensor src = x.contiguous();
  Tensor out = Tensor::empty(x.shape());
  int64_t n = x.size(-1), rows = rows_of(x);
  int64_t tq = causal ? x.size(-2) : 1;
  LS_CHECK(!causal || tq <= n, "causal softmax with {} queries and {} keys", tq, n);
  const float* s = src.data();
  float* o = out.data();
  parallel_for(rows, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      // Query i sees keys 0..i+(n-tq): the queries are the last tq positions of the keys.
      int64_t valid = causal ? r % tq + (n - tq) + 1 : n;
      softmax_row(s + r * n, o + r * n, n, valid);
    }
  });
  return out;
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy) {
  Tensor yc = y.contiguous(), gc = dy.contiguous();
  Tensor dx = Tensor::empty(y.shape());
  int64_t n = y.size(-1);
  const float* py = yc.data();
  const float* pg = gc.data();
  float* pd = dx.data();
  parallel_for(rows_of(y), 16, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const float* yr = py + r * n;
      const float* gr = pg + r * n;
      double dot = 0.0;
      for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(yr[j]) * gr[j];
      for (int64_t j = 0; j < n; ++j) pd[r * n + j] = yr[j] * (gr[j] - static_cast<float>(dot));
    }
  });
  return dx;
}

Tensor layernorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps,
                 LayerNormStats* stats) {
  int64_t c = x.size(-1), rows = rows_of(x);
  LS_CHECK(gamma.numel() == c && beta.numel() == c, "layernorm of width {} with gamma {}", c,
           gamma.shape_str());
  Tensor src = x.contiguous(), g = gamma.contiguous(), b = beta.contiguous();
  Tensor out = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({rows}), rstd = Tensor::empty({rows});
  const float* s = src.data();
  float* o = out.data();
  parallel_for(rows, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const float* xr = s + r * c;
      float mu = static_cast<float>(vmath::sum_of(c, [&](int64_t j) { return xr[j]; }) / c);
      double var = vmath::sum_of(c, [&](int64_t j) {
        double d = xr[j] - mu;
        return d * d;
      });
      float rs = static_cast<float>(1.0 / std::sqrt(var / c + eps));
      const float *pg = g.data(), *pb = b.data();
      for (int64_t j = 0; j < c; ++j) o[r * c + j] = (xr[j] - mu) * rs * pg[j] + pb[j];
      mean.data()[r] = mu;
      rstd.data()[r] = rs;
    }
  });
  if (stats) *stats = {mean, rstd};
  return out;
}

void layernorm_backward(const Tensor& dy, const Tensor& x, const Tensor& gamma,
                        const LayerNormStats& stats, Tensor* dx, Tensor* dgamma, Tensor* dbeta) {
  int64_t c = x.size(-1), rows = rows_of(x);
  Tensor gy = dy.contiguous(), src = x.contiguous(), g = gamma.contiguous();
  const float* pg = gy.data();
  const float* px = src.data();
  const float* mu = stats.mean.data();
  const float* rs = stats.rstd.data();
  if (dx) {
    *dx = Tensor::empty(x.shape());
    float* pd = dx->data();
    parallel_for(rows, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma
        const float *xr = px + r * c, *gr = pg + r * c, *gm = g.data();
        float m = mu[r], s = rs[r];
        double m1 = vmath::sum_of(c, [&](int64_t j) { return gr[j] * gm[j]; });
        double m2 = vmath::sum_of(
            c, [&](int64_t j) { return static_cast<double>(gr[j] * gm[j]) * ((xr[j] - m) * s); });
        float a = static_cast<float>(m1 / c), b = static_cast<float>(m2 / c);
        for (int64_t j = 0; j < c; ++j)
          pd[r * c + j] = s * (gr[j] * gm[j] - a - (xr[j] - m) * s * b);
      }
    });
  }
  if (dgamma || dbeta) {
    // Column sums: each task owns a range of columns so no two tasks write the same output.
    Tensor dg = Tensor::zeros({c}), db = Tensor::zeros({c});
    parallel_for(c, 64, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        double sg = 0.0, sb = 0.0;
        for (int64_t r = 0; r < rows; ++r) {
          float xhat = (px[r * c + j] - mu[r]) * rs[r];
          sg += static_cast<double>(pg[r * c + j]) * xhat;
          sb += pg[r * c + j];
        }
        dg.data()[j] = static_cast<float>(sg);
        db.data()[j] = static_cast<float>(sb);
      }
    });
    if (dgamma) *dgamma = dg.view(gamma.shape());
    if (dbeta) *dbeta = db.view(gamma.shape());
  }
}

Tensor embedding(const Tensor& weight, const std::vector<int32_t>& ids, const Shape& ids_shape) {
  LS_CHECK(shape_numel(ids_shape) == static_cast<int64_t>(ids.size()), "ids shape mismatch");
  int64_t v = weight.size(0), c = weight.size(1);
  Tensor w = weight.contiguous();
  Shape shape = ids_shape;
  shape.push_back(c);
  Tensor out = Tensor::empty(shape);
  for (size_t i = 0; i < ids.size(); ++i) {
    LS_CHECK(ids[i] >= 0 && ids[i] < v, "token id {} outside the vocabulary of {}", ids[i], v);
    std::copy_n(w.data() + ids[i] * c, c, out.data() + i * c);
  }
  return out;
}

void embedding_backward(const Tensor& dy, const std::vector<int32_t>& ids, const Tensor& dweight) {
  int64_t c = dweight.size(1);
  Tensor g = dy.contiguous();
  // Sequential: repeated ids must add up in a fixed order.
  for (size_t i = 0; i < ids.size(); ++i) {
    float* row = dweight.data() + static_cast<int64_t>(ids[i]) * c;
    const float* src = g.data() + i * c;
    for (int64_t j = 0; j < c; ++j) row[j] += src[j];
  }
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int32_t>& targets,
                     int32_t ignore_index, int64_t* counted) {
  int64_t n = logits.size(0), v = logits.size(1);
  LS_CHECK(static_cast<int64_t>(targets.size()) == n, "{} targets for {} rows", targets.size(), n);
  Tensor src = logits.contiguous();
  std::vector<double> row_loss(n, 0.0);
  parallel_for(n, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      if (targets[r] == ignore_index) continue;
      LS_CHECK(targets[r] >= 0 && targets[r] < v, "target {} outside {} classes", targets[r], v);
      const float* p = src.data() + r * v;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < v; ++j) mx = std::max(mx, p[j]);
      double total = 0.0;
      for (int64_t j = 0; j < v; ++j) total += std::exp(static_cast<double>(p[j] - mx));
      row_loss[r] = std::log(total) + mx - p[targets[r]];
    }
  });
  double loss = 0.0;
  int64_t count = 0;
  for (int64_t r = 0; r < n; ++r) {
    if (targets[r] == ignore_index) continue;
    loss += row_loss[r];
    ++count;
  }
  if (counted) *counted = count;
  return Tensor::scalar(count ? static_cast<float>(loss / count) : 0.0f);
}

Tensor cross_entropy_backward(const Tensor& logits, const std::vector<int32_t>& targets,
                              int32_t ignore_index, float grad_scale) {
  int64_t n = logits.size(0), v = logits.size(1);
  Tensor probs = softmax(logits);
  float* p = probs.data();
  parallel_for(n, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* row = p + r * v;
      if (targets[r] == ignore_index) {
        std::fill_n(row, v, 0.0f);
        continue;
      }
      row[targets[r]] -= 1.0f;
      for (int64_t j = 0; j < v; ++j) row[j] *= grad_scale;
    }
  });
  return probs;
}

}  // namespace ls::ops
