#pragma once
// Weight matrices kept in bfloat16 for products that reading the weights dominates: generating
// a token multiplies every weight once, by one row of activations, so the cost is the bytes
// read, and bf16 halves them. Each weight is widened to float32 as it is read (a 16-bit shift,
// which the compiler vectorises) and the sums are float32; the activations stay float32.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ls {

// A [rows, cols] matrix of bf16 numbers, row-major: a snapshot, which does not follow later
// changes to the tensor it was made from.
class Bf16Matrix {
 public:
  Bf16Matrix() = default;
  // Every element of the 2-D view w rounded to the nearest bf16 (ties to even); a transposed
  // view gives the transpose.
  explicit Bf16Matrix(const Tensor& w);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  bool empty() const { return bits_.empty(); }
  const uint16_t* row(int64_t r) const { return bits_.data() + r * cols_; }
  int64_t bytes() const { return static_cast<int64_t>(bits_.size() * sizeof(uint16_t)); }

 private:
  int64_t rows_ = 0, cols_ = 0;
  std::vector<uint16_t> bits_;
};

namespace ops {

// y = x·Wᵀ + bias for x (..., in), W [out, in] in bf16 and bias [out] (may be undefined):
// y (..., out). For one row of x each output is a dot product summed in a fixed order over 32
// float32 lanes by one task; several rows multiply the widened weights as a GEMM (ops::gemm,
// split by shape). Either way the result does not depend on the thread count.
Tensor linear_bf16(const Tensor& x, const Bf16Matrix& w, const Tensor& bias = Tensor());

}  // namespace ops

}  // namespace ls
