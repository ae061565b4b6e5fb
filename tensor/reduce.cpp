// Reductions along one axis, and the broadcast-gradient reduction sum_to.
#include <algorithm>
#include <limits>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ls::ops {

namespace {

// Views a contiguous tensor as (outer, n, inner) around `axis` and reduces the middle.
template <typename Init, typename Step, typename Finish>
Tensor reduce_axis(const Tensor& a, int64_t axis, bool keepdim, Init init, Step step,
                   Finish finish) {
  axis = wrap_axis(axis, a.dim());
  Tensor src = a.contiguous();
  int64_t n = a.shape()[axis], outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= a.shape()[d];
  for (int64_t d = axis + 1; d < a.dim(); ++d) inner *= a.shape()[d];
  Shape shape = a.shape();
  if (keepdim)
    shape[axis] = 1;
  else
    shape.erase(shape.begin() + axis);
  Tensor out = Tensor::empty(shape);
  const float* s = src.data();
  float* o = out.data();
  if (inner == 1) {
    parallel_for(outer, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        auto acc = init();
        for (int64_t j = 0; j < n; ++j) acc = step(acc, s[i * n + j]);
        o[i] = finish(acc, n);
      }
    });
    return out;
  }
  // Reducing across rows (a bias gradient sums a [rows, C] gradient over rows): a task owns a
  // block of kCols outputs and walks the rows in order, reading each row's block contiguously.
  constexpr int64_t kCols = 64;
  int64_t blocks = (inner + kCols - 1) / kCols;
  parallel_for(outer * blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      int64_t i = task / blocks, k0 = task % blocks * kCols, width = std::min(kCols, inner - k0);
      decltype(init()) acc[kCols];
      std::fill_n(acc, width, init());
      for (int64_t j = 0; j < n; ++j) {
        const float* row = s + (i * n + j) * inner + k0;
        for (int64_t k = 0; k < width; ++k) acc[k] = step(acc[k], row[k]);
      }
      for (int64_t k = 0; k < width; ++k) o[i * inner + k0 + k] = finish(acc[k], n);
    }
  });
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, int64_t axis, bool keepdim) {
  return reduce_axis(
      a, axis, keepdim, [] { return 0.0; }, [](double acc, float v) { return acc + v; },
      [](double acc, int64_t) { return static_cast<float>(acc); });
}

Tensor mean(const Tensor& a, int64_t axis, bool keepdim) {
  return reduce_axis(
      a, axis, keepdim, [] { return 0.0; }, [](double acc, float v) { return acc + v; },
      [](double acc, int64_t n) { return static_cast<float>(acc / static_cast<double>(n)); });
}

Tensor max(const Tensor& a, int64_t axis, bool keepdim) {
  LS_CHECK(a.shape()[wrap_axis(axis, a.dim())] > 0, "max over an empty axis");
  return reduce_axis(
      a, axis, keepdim, [] { return -std::numeric_limits<float>::infinity(); },
      [](float acc, float v) { return v > acc ? v : acc; }, [](float acc, int64_t) { return acc; });
}

Tensor sum_all(const Tensor& a) {
  double acc = 0.0;
  for (float v : a.to_vector()) acc += v;
  return Tensor::scalar(static_cast<float>(acc));
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor out = g;
  int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  LS_CHECK(lead >= 0, "sum_to {} from {}", shape_to_string(shape), g.shape_str());
  for (int64_t i = 0; i < lead; ++i) out = sum(out, 0, false);
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    if (shape[d] == 1 && out.shape()[d] != 1) out = sum(out, d, true);
  LS_CHECK(out.shape() == shape, "sum_to {} from {}", shape_to_string(shape), g.shape_str());
  return out;
}

}  // namespace ls::ops
