#pragma once
// Reference implementations for the tensor and autograd tests: plain loops over logical
// indices with double accumulation. Tensors are read straight from storage + offset + strides,
// so the references share no code with the kernels under test.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "tensor/parallel.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace ls::naive {

using Index = std::vector<int64_t>;

inline int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline Index unravel(int64_t flat, const Shape& shape) {
  Index idx(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// A dense row-major array of doubles: the reference side of every comparison.
struct Arr {
  Shape shape;
  std::vector<double> v;
  Arr() = default;
  explicit Arr(Shape s, double fill = 0.0) : shape(std::move(s)), v(count(shape), fill) {}
  int64_t numel() const { return static_cast<int64_t>(v.size()); }
  int64_t flat(const Index& idx) const {
    int64_t f = 0;
    for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + idx[d];
    return f;
  }
  double& operator()(const Index& idx) { return v[flat(idx)]; }
  double operator()(const Index& idx) const { return v[flat(idx)]; }
};

inline Arr read(const Tensor& t) {
  Arr a(t.shape());
  const float* base = t.impl()->storage->data;
  for (int64_t i = 0; i < a.numel(); ++i) {
    Index idx = unravel(i, a.shape);
    int64_t off = t.impl()->offset;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
    a.v[i] = base[off];
  }
  return a;
}

inline Tensor to_tensor(const Arr& a) {
  Tensor t = Tensor::empty(a.shape);
  for (int64_t i = 0; i < a.numel(); ++i) t.data()[i] = static_cast<float>(a.v[i]);
  return t;
}

// The same values in a non-contiguous layout, to feed kernels strided inputs: stored with the
// axes reversed and viewed back through permute, or padded in the last axis and sliced.
enum class Layout { contiguous, permuted, sliced };

inline Tensor relayout(const Tensor& t, Layout layout) {
  Arr src = read(t);
  int64_t nd = t.dim();
  if (layout == Layout::contiguous || nd == 0) return to_tensor(src);
  if (layout == Layout::permuted) {
    Shape rev(t.shape().rbegin(), t.shape().rend());
    Tensor store = Tensor::empty(rev);
    Index order(nd);
    for (int64_t d = 0; d < nd; ++d) order[d] = nd - 1 - d;
    Tensor view = store.permute(order);
    for (int64_t i = 0; i < src.numel(); ++i) {
      Index idx = unravel(i, src.shape);
      Index r(idx.rbegin(), idx.rend());
      store.data()[Arr(rev).flat(r)] = static_cast<float>(src.v[i]);
    }
    return view;
  }
  Shape padded = t.shape();
  padded.back() += 3;
  Tensor store = Tensor::full(padded, std::nanf(""));  // padding must never be read
  Tensor view = store.slice(nd - 1, 1, 1 + t.shape().back());
  for (int64_t i = 0; i < src.numel(); ++i) {
    Index idx = unravel(i, src.shape);
    idx.back() += 1;
    store.data()[Arr(padded).flat(idx)] = static_cast<float>(src.v[i]);
  }
  return view;
}

// Largest |got − want| / max(1, |want|); infinity on a shape mismatch or a NaN.
inline double err(const Tensor& got, const Arr& want) {
  if (!got.defined() || got.shape() != want.shape) return std::numeric_limits<double>::infinity();
  Arr g = read(got);
  double worst = 0.0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    double e = std::fabs(g.v[i] - want.v[i]) / std::max(1.0, std::fabs(want.v[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
  }
  return worst;
}
inline double err(const Tensor& got, const Tensor& want) { return err(got, read(want)); }

// Largest |got − want| / the largest |want|: for values far below 1, such as gradients.
inline double rel_err(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double worst = 0.0, largest = std::numeric_limits<double>::min();
  for (size_t i = 0; i < want.size(); ++i) {
    double e = std::fabs(double(got[i]) - want[i]);
    if (!(e <= worst)) worst = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
    largest = std::max(largest, std::fabs(double(want[i])));
  }
  return worst / largest;
}
inline double rel_err(const Tensor& got, const Tensor& want) {
  return got.defined() && got.shape() == want.shape() ? rel_err(got.to_vector(), want.to_vector())
                                                      : std::numeric_limits<double>::infinity();
}

// Exact equality of shape and every float.
inline bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

inline Tensor random(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  return rand_uniform(shape, lo, hi, rng);
}

// Restores the default thread count however the test leaves.
struct Threads {
  explicit Threads(int n) { set_num_threads(n); }
  ~Threads() { set_num_threads(0); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;
};

// ---- elementwise ----------------------------------------------------------------------

inline Shape broadcast(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i + a.size() >= n ? a[i + a.size() - n] : 1;
    int64_t db = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (da != db && da != 1 && db != 1) throw std::invalid_argument("not broadcastable");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// a's element that lands on output index `idx` of a broadcast.
inline double pick(const Arr& a, const Index& idx) {
  size_t lead = idx.size() - a.shape.size();
  Index src(a.shape.size());
  for (size_t d = 0; d < src.size(); ++d) src[d] = a.shape[d] == 1 ? 0 : idx[lead + d];
  return a(src);
}

template <typename F>
Arr binary(const Arr& a, const Arr& b, F f) {
  Arr out(broadcast(a.shape, b.shape));
  for (int64_t i = 0; i < out.numel(); ++i) {
    Index idx = unravel(i, out.shape);
    out.v[i] = f(pick(a, idx), pick(b, idx));
  }
  return out;
}

template <typename F>
Arr unary(const Arr& a, F f) {
  Arr out = a;
  for (double& x : out.v) x = f(x);
  return out;
}

inline double gelu(double x) {
  const double c = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1.0 + std::tanh(c * (x + 0.044715 * x * x * x)));
}

// ---- reductions ---------------------------------------------------------------------

enum class Reduce { sum, mean, max };

inline Arr reduce(const Arr& a, int64_t axis, bool keepdim, Reduce kind) {
  int64_t nd = static_cast<int64_t>(a.shape.size());
  if (axis < 0) axis += nd;
  Shape kept = a.shape;
  kept[axis] = 1;
  Arr acc(kept, kind == Reduce::max ? -std::numeric_limits<double>::infinity() : 0.0);
  for (int64_t i = 0; i < a.numel(); ++i) {
    Index idx = unravel(i, a.shape);
    idx[axis] = 0;
    double& slot = acc(idx);
    slot = kind == Reduce::max ? std::max(slot, a.v[i]) : slot + a.v[i];
  }
  if (kind == Reduce::mean)
    for (double& x : acc.v) x /= static_cast<double>(a.shape[axis]);
  if (!keepdim) acc.shape.erase(acc.shape.begin() + axis);
  return acc;
}

// The sum of g over every index that broadcasts onto each element of `shape`.
inline Arr sum_to(const Arr& g, const Shape& shape) {
  Arr out(shape);
  size_t lead = g.shape.size() - shape.size();
  for (int64_t i = 0; i < g.numel(); ++i) {
    Index idx = unravel(i, g.shape);
    Index dst(shape.size());
    for (size_t d = 0; d < dst.size(); ++d) dst[d] = shape[d] == 1 ? 0 : idx[lead + d];
    out(dst) += g.v[i];
  }
  return out;
}

// ---- linear algebra -------------------------------------------------------------------

// (..., M, K) @ (..., K, N) with broadcast batch dimensions.
inline Arr matmul(const Arr& a, const Arr& b) {
  size_t na = a.shape.size(), nb = b.shape.size();
  int64_t m = a.shape[na - 2], k = a.shape[na - 1], n = b.shape[nb - 1];
  Shape batch = broadcast(Shape(a.shape.begin(), a.shape.end() - 2),
                          Shape(b.shape.begin(), b.shape.end() - 2));
  Shape shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  Arr out(shape);
  for (int64_t i = 0; i < out.numel(); ++i) {
    Index idx = unravel(i, shape);
    Index ia = idx, ib = idx;
    double acc = 0.0;
    for (int64_t p = 0; p < k; ++p) {
      ia.back() = p;
      ib[ib.size() - 2] = p;
      acc += pick(a, ia) * pick(b, ib);
    }
    out.v[i] = acc;
  }
  return out;
}

// Swaps the last two axes.
inline Arr transpose(const Arr& a) {
  Shape shape = a.shape;
  std::swap(shape[shape.size() - 1], shape[shape.size() - 2]);
  Arr out(shape);
  for (int64_t i = 0; i < a.numel(); ++i) {
    Index idx = unravel(i, a.shape);
    std::swap(idx[idx.size() - 1], idx[idx.size() - 2]);
    out(idx) = a.v[i];
  }
  return out;
}

// ---- rows of the last axis ---------------------------------------------------------------

// With `causal`, the last two axes are (queries Tq, keys Tk) and query i, which sits at key
// position Tk − Tq + i, sees keys up to that position.
inline Arr softmax(const Arr& x, bool causal) {
  Arr out(x.shape);
  int64_t n = x.shape.back(), tq = causal ? x.shape[x.shape.size() - 2] : 1;
  for (int64_t r = 0; r * n < x.numel(); ++r) {
    int64_t valid = causal ? n - tq + r % tq + 1 : n;
    double mx = -std::numeric_limits<double>::infinity(), total = 0.0;
    for (int64_t j = 0; j < valid; ++j) mx = std::max(mx, x.v[r * n + j]);
    for (int64_t j = 0; j < valid; ++j) total += std::exp(x.v[r * n + j] - mx);
    for (int64_t j = 0; j < valid; ++j) out.v[r * n + j] = std::exp(x.v[r * n + j] - mx) / total;
  }
  return out;
}

inline std::vector<double> log_softmax(const double* row, int64_t n) {
  double mx = *std::max_element(row, row + n), total = 0.0;
  for (int64_t j = 0; j < n; ++j) total += std::exp(row[j] - mx);
  std::vector<double> out(n);
  for (int64_t j = 0; j < n; ++j) out[j] = row[j] - mx - std::log(total);
  return out;
}

// Mean over counted rows of −log softmax(logits)[target]; 0 when nothing counts.
inline double cross_entropy(const Arr& logits, const std::vector<int32_t>& targets,
                            int32_t ignore) {
  int64_t v = logits.shape.back();
  double total = 0.0;
  int counted = 0;
  for (size_t r = 0; r < targets.size(); ++r) {
    if (targets[r] == ignore) continue;
    total -= log_softmax(&logits.v[r * v], v)[targets[r]];
    ++counted;
  }
  return counted ? total / counted : 0.0;
}

// d(mean loss)/d(logits): (softmax − onehot) / counted on counted rows.
inline Arr cross_entropy_grad(const Arr& logits, const std::vector<int32_t>& targets,
                              int32_t ignore) {
  int64_t v = logits.shape.back();
  int counted = static_cast<int>(
      std::count_if(targets.begin(), targets.end(), [&](int32_t t) { return t != ignore; }));
  Arr out(logits.shape);
  for (size_t r = 0; r < targets.size(); ++r) {
    if (targets[r] == ignore) continue;
    std::vector<double> ls = log_softmax(&logits.v[r * v], v);
    for (int64_t j = 0; j < v; ++j)
      out.v[r * v + j] = (std::exp(ls[j]) - (j == targets[r] ? 1.0 : 0.0)) / counted;
  }
  return out;
}

struct LayerNormGrads {
  Arr dx, dgamma, dbeta;
};

inline Arr layernorm(const Arr& x, const Arr& gamma, const Arr& beta, double eps) {
  Arr out(x.shape);
  int64_t c = x.shape.back();
  for (int64_t r = 0; r * c < x.numel(); ++r) {
    const double* xr = &x.v[r * c];
    double mu = 0.0, var = 0.0;
    for (int64_t j = 0; j < c; ++j) mu += xr[j] / c;
    for (int64_t j = 0; j < c; ++j) var += (xr[j] - mu) * (xr[j] - mu) / c;
    for (int64_t j = 0; j < c; ++j)
      out.v[r * c + j] = (xr[j] - mu) / std::sqrt(var + eps) * gamma.v[j] + beta.v[j];
  }
  return out;
}

// Gradients of Σ dy·layernorm(x) by the explicit Jacobian of x̂ = (x − μ)/σ:
// ∂x̂_j/∂x_i = (δ_ij − 1/C − x̂_i x̂_j / C) / σ.
inline LayerNormGrads layernorm_backward(const Arr& dy, const Arr& x, const Arr& gamma,
                                         double eps) {
  int64_t c = x.shape.back();
  LayerNormGrads g{Arr(x.shape), Arr(gamma.shape), Arr(gamma.shape)};
  for (int64_t r = 0; r * c < x.numel(); ++r) {
    const double* xr = &x.v[r * c];
    double mu = 0.0, var = 0.0;
    for (int64_t j = 0; j < c; ++j) mu += xr[j] / c;
    for (int64_t j = 0; j < c; ++j) var += (xr[j] - mu) * (xr[j] - mu) / c;
    double sigma = std::sqrt(var + eps);
    std::vector<double> xhat(c);
    for (int64_t j = 0; j < c; ++j) xhat[j] = (xr[j] - mu) / sigma;
    for (int64_t j = 0; j < c; ++j) {
      double d = dy.v[r * c + j];
      g.dgamma.v[j] += d * xhat[j];
      g.dbeta.v[j] += d;
      for (int64_t i = 0; i < c; ++i) {
        double jac = ((i == j ? 1.0 : 0.0) - 1.0 / c - xhat[i] * xhat[j] / c) / sigma;
        g.dx.v[r * c + i] += d * gamma.v[j] * jac;
      }
    }
  }
  return g;
}

inline Arr embedding(const Arr& weight, const std::vector<int32_t>& ids, const Shape& ids_shape) {
  int64_t c = weight.shape[1];
  Shape shape = ids_shape;
  shape.push_back(c);
  Arr out(shape);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < c; ++j) out.v[i * c + j] = weight.v[ids[i] * c + j];
  return out;
}

// ---- attention ----------------------------------------------------------------------------

// Columns [start, end) of the last axis.
inline Arr slice_last(const Arr& a, int64_t start, int64_t end) {
  Shape shape = a.shape;
  shape.back() = end - start;
  Arr out(shape);
  for (int64_t i = 0; i < out.numel(); ++i) {
    Index idx = unravel(i, shape);
    idx.back() += start;
    out.v[i] = a(idx);
  }
  return out;
}

// Causal multi-head attention, one (batch, head, query) at a time: q (B, Tq, C), k and v
// (B, Tk, C), query i at key position Tk − Tq + i.
inline Arr attention(const Arr& q, const Arr& k, const Arr& v, int64_t heads) {
  int64_t b = q.shape[0], tq = q.shape[1], c = q.shape[2], tk = k.shape[1], d = c / heads;
  Arr out(q.shape);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < tq; ++i) {
        int64_t visible = tk - tq + i + 1;
        std::vector<double> s(visible);
        for (int64_t j = 0; j < visible; ++j) {
          for (int64_t e = 0; e < d; ++e) s[j] += q({bi, i, h * d + e}) * k({bi, j, h * d + e});
          s[j] /= std::sqrt(static_cast<double>(d));
        }
        double mx = *std::max_element(s.begin(), s.end()), total = 0.0;
        for (double& x : s) total += (x = std::exp(x - mx));
        for (int64_t j = 0; j < visible; ++j)
          for (int64_t e = 0; e < d; ++e)
            out({bi, i, h * d + e}) += s[j] / total * v({bi, j, h * d + e});
      }
  return out;
}

// ---- random shapes -------------------------------------------------------------------------

inline Shape random_shape(Rng& rng, int64_t ndim, int64_t max_dim) {
  Shape s(ndim);
  for (int64_t& d : s) d = 1 + rng.below(max_dim);
  return s;
}

// A shape that broadcasts to `s`: some leading axes dropped, some others set to 1.
inline Shape broadcastable_to(const Shape& s, Rng& rng) {
  Shape out(s.begin() + rng.below(static_cast<int64_t>(s.size()) + 1), s.end());
  for (int64_t& d : out)
    if (rng.below(3) == 0) d = 1;
  return out;
}

}  // namespace ls::naive
