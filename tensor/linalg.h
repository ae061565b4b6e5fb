#pragma once
// The small dense linear algebra composing adapters needs, in double precision: QR and SVD by
// LAPACK (dgeqrf/dorgqr, dgesdd, through LAPACKE), the SVD of a product B·A through its thin
// factors (never forming the product), and a randomized SVD for the large dense deltas TIES
// and DARE produce, whose big products run in float through ops::gemm.
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace ls::linalg {

// A row-major matrix of doubles.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;

  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c), 0.0) {}
  double& operator()(int64_t i, int64_t j) { return v[i * cols + j]; }
  double operator()(int64_t i, int64_t j) const { return v[i * cols + j]; }

  static Matrix from(const Tensor& t);  // a 2-D tensor, any strides
  Tensor to_tensor() const;
  Matrix transposed() const;
};

Matrix matmul(const Matrix& a, const Matrix& b);

// a = Q·R with k = min(rows, cols): Q [rows, k] with orthonormal columns, R [k, cols] upper
// triangular with a non-negative diagonal.
struct QR {
  Matrix Q, R;
};
QR qr(const Matrix& a);

// a = U·diag(S)·Vᵀ, singular values descending: U [rows, k], V [cols, k] with orthonormal
// columns, k = min(rows, cols). In every SVD below, each column of U has its largest-magnitude
// entry positive (V's column flipped with it), so the result does not depend on the LAPACK.
struct SVD {
  Matrix U;
  std::vector<double> S;
  Matrix V;
  void truncate(int64_t k);  // keeps the k largest (all of them if there are fewer)
};
SVD svd(const Matrix& a);

// The SVD of b·a (b [m, r], a [r, n]) from QRs of b and aᵀ and the SVD of an r×r core:
// O((m + n)·r²) instead of the O(m·n·min(m, n)) of a dense SVD.
SVD svd_of_product(const Matrix& b, const Matrix& a);

// The k leading singular triplets of a dense float matrix by the randomized range finder of
// Halko, Martinsson & Tropp (2011): k + 10 Gaussian probes, two power iterations. Exact when
// k + 10 reaches min(rows, cols).
SVD randomized_svd(const Tensor& a, int64_t k, uint64_t seed);

}  // namespace ls::linalg
