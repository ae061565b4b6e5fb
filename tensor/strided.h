#pragma once
// Elementwise loops over two tensors of one shape in any two layouts (internal to tensor/).
#include <algorithm>
#include <cstdint>

#include "tensor/parallel.h"
#include "tensor/tensor.h"

namespace ls {

// op(dst[i], src[i]) for every element, in square tiles of the last two dimensions so that a
// transposed read or write still uses every cache line it touches; tiles run in parallel.
template <typename Op>
void zip_tiles(const Tensor& dst, const Tensor& src, Op op) {
  constexpr int64_t kTile = 32;
  const Shape& shape = dst.shape();
  int64_t nd = dst.dim();
  if (nd == 0) {
    op(*dst.data(), *src.data());
    return;
  }
  int64_t cols = shape[nd - 1], rows = nd >= 2 ? shape[nd - 2] : 1;
  if (rows * cols == 0) return;
  int64_t outer = dst.numel() / (rows * cols);
  auto stride = [](const Tensor& t, int64_t back) {
    return t.dim() >= back ? t.strides()[t.dim() - back] : 0;
  };
  int64_t dr = stride(dst, 2), dc = stride(dst, 1), sr = stride(src, 2), sc = stride(src, 1);
  // Offset of outer matrix `index` in t (all dimensions but the last two).
  auto outer_offset = [nd, &shape](const Tensor& t, int64_t index) {
    int64_t offset = 0;
    for (int64_t d = nd - 3; d >= 0; --d) {
      offset += (index % shape[d]) * t.strides()[d];
      index /= shape[d];
    }
    return offset;
  };
  int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  parallel_for(outer * row_tiles * col_tiles, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      int64_t m = task / (row_tiles * col_tiles), tile = task % (row_tiles * col_tiles);
      int64_t i0 = tile / col_tiles * kTile, j0 = tile % col_tiles * kTile;
      int64_t i1 = std::min(i0 + kTile, rows), j1 = std::min(j0 + kTile, cols);
      float* d = dst.data() + outer_offset(dst, m);
      const float* s = src.data() + outer_offset(src, m);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) op(d[i * dr + j * dc], s[i * sr + j * sc]);
    }
  });
}

}  // namespace ls
