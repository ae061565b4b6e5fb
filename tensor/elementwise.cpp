// Elementwise kernels with NumPy broadcasting, and GELU.
#include <cmath>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/strided.h"
#include "tensor/vmath.h"

namespace ls::ops {

namespace {

constexpr int64_t kGrain = 1 << 14;  // elements per task: big enough to amortise scheduling

// Strides of `t` as seen from a broadcast result of `out_shape` (0 along broadcast dims).
Shape broadcast_strides(const Tensor& t, const Shape& out_shape) {
  Shape strides(out_shape.size(), 0);
  int64_t lead = static_cast<int64_t>(out_shape.size()) - t.dim();
  for (int64_t i = 0; i < t.dim(); ++i) strides[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return strides;
}

// Offset of row `row` (all dims but the last) in a strided layout.
int64_t row_offset(int64_t row, const Shape& shape, const Shape& strides) {
  int64_t offset = 0;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d) {
    offset += (row % shape[d]) * strides[d];
    row /= shape[d];
  }
  return offset;
}

template <typename Op>
Tensor binary(const Tensor& a, const Tensor& b, Op op) {
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(shape);
  float* o = out.data();
  const float* pa = a.data();
  const float* pb = b.data();
  if (a.shape() == shape && b.shape() == shape && a.is_contiguous() && b.is_contiguous()) {
    parallel_for(out.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = op(pa[i], pb[i]);
    });
    return out;
  }
  if (shape.empty()) {
    o[0] = op(pa[0], pb[0]);
    return out;
  }
  Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  int64_t inner = shape.back(), rows = out.numel() / std::max<int64_t>(inner, 1);
  int64_t ia = sa.back(), ib = sb.back();
  parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(inner, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   const float* ra = pa + row_offset(r, shape, sa);
                   const float* rb = pb + row_offset(r, shape, sb);
                   float* ro = o + r * inner;
                   for (int64_t j = 0; j < inner; ++j) ro[j] = op(ra[j * ia], rb[j * ib]);
                 }
               });
  return out;
}

// A plain loop of its own (not inlined into the task body) so that GCC vectorises it.
template <typename Op>
[[gnu::noinline]] void map(const float* __restrict s, float* __restrict o, int64_t n, Op op) {
  for (int64_t i = 0; i < n; ++i) o[i] = op(s[i]);
}

template <typename Op>
Tensor unary(const Tensor& a, Op op) {
  Tensor src = a.contiguous();
  Tensor out = Tensor::empty(a.shape());
  const float* s = src.data();
  float* o = out.data();
  parallel_for(out.numel(), kGrain,
               [&](int64_t lo, int64_t hi) { map(s + lo, o + lo, hi - lo, op); });
  return out;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    LS_CHECK(da == db || da == 1 || db == 1, "cannot broadcast {} with {}", shape_to_string(a),
             shape_to_string(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, std::plus<float>()); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(a, b, std::minus<float>()); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, std::multiplies<float>()); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(a, b, std::divides<float>()); }
Tensor scale(const Tensor& a, float s) {
  return unary(a, [s](float x) { return x * s; });
}
Tensor add_scalar(const Tensor& a, float s) {
  return unary(a, [s](float x) { return x + s; });
}
Tensor exp(const Tensor& a) {
  return unary(a, [](float x) { return std::exp(x); });
}
Tensor log(const Tensor& a) {
  return unary(a, [](float x) { return std::log(x); });
}
Tensor tanh(const Tensor& a) {
  return unary(a, [](float x) { return std::tanh(x); });
}
Tensor sqrt(const Tensor& a) {
  return unary(a, [](float x) { return std::sqrt(x); });
}

Tensor gelu(const Tensor& x) {
  return unary(x, [](float v) { return vmath::gelu(v); });
}

Tensor gelu_backward(const Tensor& x, const Tensor& dy) {
  return binary(x, dy, [](float v, float g) { return g * vmath::gelu_grad(v); });
}

void add_into(const Tensor& dst, const Tensor& src) {
  LS_CHECK(dst.shape() == src.shape() && dst.is_contiguous(), "add_into {} += {}", dst.shape_str(),
           src.shape_str());
  bool shared = dst.impl()->storage == src.impl()->storage;  // may overlap: copy src first
  if (!src.is_contiguous() && !shared) {  // e.g. a transposed delta into a weight
    zip_tiles(dst, src, [](float& d, float s) { d += s; });
    return;
  }
  Tensor s = shared ? src.clone() : src;
  float* d = dst.data();
  const float* p = s.data();
  parallel_for(dst.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) d[i] += p[i];
  });
}

Tensor broadcast_to(const Tensor& a, const Shape& shape) {
  LS_CHECK(broadcast_shapes(a.shape(), shape) == shape, "cannot broadcast {} to {}", a.shape_str(),
           shape_to_string(shape));
  return binary(a, Tensor::zeros(shape), std::plus<float>());
}

}  // namespace ls::ops
