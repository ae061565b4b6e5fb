#include "tensor/linalg.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/random.h"

namespace ls::linalg {

Matrix Matrix::from(const Tensor& t) {
  LS_CHECK(t.dim() == 2, "Matrix::from needs a 2-D tensor, got {}", t.shape_str());
  Matrix m(t.size(0), t.size(1));
  std::vector<float> values = t.to_vector();
  std::copy(values.begin(), values.end(), m.v.begin());
  return m;
}

Tensor Matrix::to_tensor() const {
  return Tensor::from({rows, cols}, std::vector<float>(v.begin(), v.end()));
}

Matrix Matrix::transposed() const {
  Matrix t(cols, rows);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t(j, i) = (*this)(i, j);
  return t;
}

Matrix matmul(const Matrix& a, const Matrix& b) {
  LS_CHECK(a.cols == b.rows, "matmul of {}x{} and {}x{}", a.rows, a.cols, b.rows, b.cols);
  Matrix c(a.rows, b.cols);
  if (c.v.empty() || a.cols == 0) return c;
  num_threads();  // keeps OpenBLAS on one thread, as for every other product
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(a.rows),
              static_cast<int>(b.cols), static_cast<int>(a.cols), 1.0, a.v.data(),
              static_cast<int>(a.cols), b.v.data(), static_cast<int>(b.cols), 0.0, c.v.data(),
              static_cast<int>(b.cols));
  return c;
}

namespace {

Matrix first_columns(const Matrix& a, int64_t k) {
  Matrix out(a.rows, k);
  for (int64_t i = 0; i < a.rows; ++i) std::copy_n(&a.v[i * a.cols], k, &out.v[i * k]);
  return out;
}

// LAPACKE's row-major leading dimension, which it wants at least 1 even for an empty matrix.
lapack_int ld(const Matrix& a) { return static_cast<lapack_int>(std::max<int64_t>(a.cols, 1)); }

void check_lapack(lapack_int info, const char* routine) {
  // info < 0 is an argument our own code got wrong; info > 0 is a failed convergence.
  LS_CHECK(info == 0, "LAPACK {} returned info = {}", routine, info);
}

// LAPACK leaves each singular pair's sign to its algorithm; fixing it (the largest-magnitude
// entry of every U column positive, the first such entry on ties) makes the factors compose
// writes independent of which LAPACK the machine has.
void fix_signs(SVD& s) {
  for (int64_t j = 0; j < s.U.cols; ++j) {
    double largest = 0.0;
    for (int64_t i = 0; i < s.U.rows; ++i)
      if (std::abs(s.U(i, j)) > std::abs(largest)) largest = s.U(i, j);
    if (largest >= 0.0) continue;
    for (int64_t i = 0; i < s.U.rows; ++i) s.U(i, j) = -s.U(i, j);
    for (int64_t i = 0; i < s.V.rows; ++i) s.V(i, j) = -s.V(i, j);
  }
}

// C = op(a)·b for contiguous 2-D float tensors.
Tensor product(const Tensor& a, bool transpose_a, const Tensor& b) {
  Tensor c = Tensor::empty({a.size(transpose_a ? 1 : 0), b.size(1)});  // beta 0: never read
  ops::gemm(c, a, b, {.trans_a = transpose_a});
  return c;
}

Tensor orthonormal_basis(const Tensor& t) { return qr(Matrix::from(t)).Q.to_tensor(); }

}  // namespace

QR qr(const Matrix& a) {
  const int64_t m = a.rows, n = a.cols, k = std::min(m, n);
  num_threads();  // OpenBLAS under LAPACK on one thread, so no result depends on core count
  Matrix f = a;   // dgeqrf leaves R on and above the diagonal, the reflectors below it
  std::vector<double> tau(k);
  check_lapack(LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, f.v.data(), ld(f), tau.data()), "dgeqrf");
  QR out{first_columns(f, k), Matrix(k, n)};
  check_lapack(LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, k, k, out.Q.v.data(), ld(out.Q), tau.data()),
               "dorgqr");
  for (int64_t i = 0; i < k; ++i) {
    // A non-negative diagonal makes the factorization of a full-rank matrix unique.
    double sign = f(i, i) < 0.0 ? -1.0 : 1.0;
    for (int64_t c = i; c < n; ++c) out.R(i, c) = sign * f(i, c);
    for (int64_t r = 0; r < m; ++r) out.Q(r, i) *= sign;
  }
  return out;
}

void SVD::truncate(int64_t k) {
  k = std::min<int64_t>(k, static_cast<int64_t>(S.size()));
  U = first_columns(U, k);
  V = first_columns(V, k);
  S.resize(k);
}

SVD svd(const Matrix& a) {
  const int64_t m = a.rows, n = a.cols, k = std::min(m, n);
  num_threads();              // as in qr
  Matrix work = a, vt(k, n);  // dgesdd overwrites its input
  SVD out{Matrix(m, k), std::vector<double>(k), Matrix()};
  check_lapack(LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', m, n, work.v.data(), ld(work), out.S.data(),
                              out.U.v.data(), ld(out.U), vt.v.data(), ld(vt)),
               "dgesdd");
  out.V = vt.transposed();
  fix_signs(out);
  return out;
}

SVD svd_of_product(const Matrix& b, const Matrix& a) {
  // b·a = Qb·Rb·Raᵀ·Qaᵀ, so the singular values are those of the small core Rb·Raᵀ.
  QR qb = qr(b), qa = qr(a.transposed());
  SVD core = svd(matmul(qb.R, qa.R.transposed()));
  SVD out{matmul(qb.Q, core.U), core.S, matmul(qa.Q, core.V)};
  fix_signs(out);
  return out;
}

SVD randomized_svd(const Tensor& input, int64_t k, uint64_t seed) {
  Tensor a = input.contiguous();
  const int64_t m = a.size(0), n = a.size(1), l = std::min(k + 10, std::min(m, n));
  Rng rng(seed);
  Tensor q = orthonormal_basis(product(a, false, rand_normal({n, l}, 0.0f, 1.0f, rng)));
  for (int i = 0; i < 2; ++i)  // power iterations: the basis follows the leading directions
    q = orthonormal_basis(product(a, false, orthonormal_basis(product(a, true, q))));
  // a ≈ q·(qᵀa): the SVD of the small [l, n] factor gives a's.
  SVD out = svd(Matrix::from(product(q, true, a)));
  out.U = matmul(Matrix::from(q), out.U);
  fix_signs(out);
  out.truncate(k);
  return out;
}

}  // namespace ls::linalg
