#include "tensor/bf16_matrix.h"

#include <algorithm>
#include <bit>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/precision.h"

namespace ls {

Bf16Matrix::Bf16Matrix(const Tensor& w) {
  LS_CHECK(w.dim() == 2, "a bf16 matrix needs a 2-D tensor, got {}", w.shape_str());
  rows_ = w.size(0);
  cols_ = w.size(1);
  bits_.resize(static_cast<size_t>(rows_ * cols_));
  const float* src = w.data();
  int64_t rs = w.strides()[0], cs = w.strides()[1];
  // In 64×64 tiles, so that a transposed view is read a cache line at a time, not a float.
  constexpr int64_t kTile = 64;
  parallel_for((rows_ + kTile - 1) / kTile, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r0 = lo * kTile; r0 < std::min(hi * kTile, rows_); r0 += kTile)
      for (int64_t c0 = 0; c0 < cols_; c0 += kTile)
        for (int64_t r = r0; r < std::min(r0 + kTile, rows_); ++r)
          for (int64_t c = c0; c < std::min(c0 + kTile, cols_); ++c)
            bits_[r * cols_ + c] = bf16_bits(src[r * rs + c * cs]);
  });
}

namespace ops {

namespace {

// Σ x[k]·w[k] over 32 lanes: four independent AVX2 sums, so that the multiply-adds need not
// wait for one another. std::bit_cast of the shifted bits is bf16_to_float in a form GCC
// vectorises: a widening load and a shift.
constexpr int kLanes = 32;

float dot_bf16(const float* x, const uint16_t* w, int64_t n) {
  float acc[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; ++l)
      acc[l] += x[k + l] * std::bit_cast<float>(static_cast<uint32_t>(w[k + l]) << 16);
  for (; k < n; ++k) acc[0] += x[k] * std::bit_cast<float>(static_cast<uint32_t>(w[k]) << 16);
  float total = 0.0f;
  for (float a : acc) total += a;
  return total;
}

// Several rows (a prompt): the weights widened to float32 once and multiplied as a GEMM, since
// dot products would read each weight once per row at a fraction of the GEMM's speed. (Under a
// bf16 PrecisionScope the GEMM rounds x too, as every product then does.)
Tensor linear_rows_bf16(const Tensor& x2, const Bf16Matrix& w, const Tensor& bias) {
  int64_t rows = x2.size(0), out = w.rows(), in = w.cols();
  Tensor wide = Tensor::empty({out, in}), y = Tensor::empty({rows, out});
  float* ws = wide.data();
  parallel_for(out, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j)
      for (int64_t k = 0; k < in; ++k) ws[j * in + k] = bf16_to_float(w.row(j)[k]);
  });
  for (int64_t r = 0; bias.defined() && r < rows; ++r)
    std::copy_n(bias.data(), out, y.data() + r * out);
  gemm(y, x2, wide, {.trans_b = true, .beta = bias.defined() ? 1.0f : 0.0f});
  return y;
}

}  // namespace

Tensor linear_bf16(const Tensor& x, const Bf16Matrix& w, const Tensor& bias) {
  int64_t in = x.size(-1), out = w.rows();
  LS_CHECK(w.cols() == in, "linear_bf16: input width {} does not fit a [{}, {}] weight", in, out,
           w.cols());
  LS_CHECK(!bias.defined() || (bias.numel() == out && bias.is_contiguous()),
           "linear_bf16: bias {} for {} outputs", bias.shape_str(), out);
  Tensor x2 = x.contiguous().view({-1, in});
  Shape shape = x.shape();
  shape.back() = out;
  if (x2.size(0) != 1) return linear_rows_bf16(x2, w, bias).view(shape);
  // One row (a generated token): each weight is read once, so reading is the cost, and bf16
  // halves it. Split over outputs.
  Tensor y = Tensor::empty({1, out});
  const float *xs = x2.data(), *b = bias.defined() ? bias.data() : nullptr;
  float* ys = y.data();
  parallel_for(out, 32, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) ys[j] = dot_bf16(xs, w.row(j), in) + (b ? b[j] : 0.0f);
  });
  return y.view(shape);
}

}  // namespace ops

}  // namespace ls
