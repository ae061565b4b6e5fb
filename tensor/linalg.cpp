#include "tensor/linalg.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/error.h"
#include "tensor/ops.h"
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
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t p = 0; p < a.cols; ++p) {
      double x = a(i, p);
      for (int64_t j = 0; j < b.cols; ++j) c(i, j) += x * b(p, j);
    }
  return c;
}

namespace {

// Applies the reflector I − 2vvᵀ/vᵀv, acting on rows j.., to columns c0.. of x.
void reflect(const std::vector<double>& v, int64_t j, Matrix& x, int64_t c0) {
  double vv = std::inner_product(v.begin(), v.end(), v.begin(), 0.0);
  for (int64_t c = c0; c < x.cols; ++c) {
    double d = 0.0;
    for (size_t i = 0; i < v.size(); ++i) d += v[i] * x(j + i, c);
    double f = 2.0 * d / vv;
    for (size_t i = 0; i < v.size(); ++i) x(j + i, c) -= f * v[i];
  }
}

Matrix first_columns(const Matrix& a, int64_t k) {
  Matrix out(a.rows, k);
  for (int64_t i = 0; i < a.rows; ++i)
    std::copy_n(&a.v[i * a.cols], k, &out.v[i * k]);
  return out;
}

// Rotates rows p and q of x by the plane rotation (c, s).
void rotate(Matrix& x, int64_t p, int64_t q, double c, double s) {
  for (int64_t i = 0; i < x.cols; ++i) {
    double xp = x(p, i), xq = x(q, i);
    x(p, i) = c * xp - s * xq;
    x(q, i) = s * xp + c * xq;
  }
}

double row_dot(const Matrix& x, int64_t p, int64_t q) {
  return std::inner_product(&x.v[p * x.cols], &x.v[(p + 1) * x.cols], &x.v[q * x.cols], 0.0);
}

// C = op(a)·b for contiguous 2-D float tensors.
Tensor product(const Tensor& a, bool transpose_a, const Tensor& b) {
  Tensor c = Tensor::zeros({a.size(transpose_a ? 1 : 0), b.size(1)});
  ops::gemm(c, a, b, {.trans_a = transpose_a});
  return c;
}

Tensor orthonormal_basis(const Tensor& t) { return qr(Matrix::from(t)).Q.to_tensor(); }

}  // namespace

QR qr(const Matrix& a) {
  const int64_t m = a.rows, n = a.cols, k = std::min(m, n);
  Matrix r = a;
  std::vector<std::vector<double>> reflectors(k);  // empty: that column was already zero
  for (int64_t j = 0; j < k; ++j) {
    std::vector<double> v(m - j);
    for (int64_t i = j; i < m; ++i) v[i - j] = r(i, j);
    double norm = std::sqrt(std::inner_product(v.begin(), v.end(), v.begin(), 0.0));
    if (norm == 0.0) continue;
    v[0] += v[0] > 0 ? norm : -norm;  // the sign that avoids cancellation
    reflect(v, j, r, j);
    reflectors[j] = std::move(v);
  }
  QR out{Matrix(m, k), Matrix(k, n)};
  for (int64_t i = 0; i < k; ++i) out.Q(i, i) = 1.0;
  for (int64_t j = k - 1; j >= 0; --j)
    if (!reflectors[j].empty()) reflect(reflectors[j], j, out.Q, 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t c = i; c < n; ++c) out.R(i, c) = r(i, c);
  return out;
}

void SVD::truncate(int64_t k) {
  k = std::min<int64_t>(k, static_cast<int64_t>(S.size()));
  U = first_columns(U, k);
  V = first_columns(V, k);
  S.resize(k);
}

SVD svd(const Matrix& a) {
  if (a.rows < a.cols) {
    SVD t = svd(a.transposed());
    std::swap(t.U, t.V);
    return t;
  }
  // One-sided Jacobi (Hestenes): rotate pairs of columns of a until all are orthogonal; they
  // are then U·Σ and the accumulated rotations V. Columns are kept as rows for locality.
  const int64_t m = a.rows, n = a.cols;
  Matrix w = a.transposed(), vt(n, n);
  for (int64_t i = 0; i < n; ++i) vt(i, i) = 1.0;
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        double alpha = row_dot(w, p, p), beta = row_dot(w, q, q), gamma = row_dot(w, p, q);
        if (std::abs(gamma) <= 1e-15 * std::sqrt(alpha * beta)) continue;
        rotated = true;
        double zeta = (beta - alpha) / (2.0 * gamma);
        double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::hypot(1.0, zeta));
        double c = 1.0 / std::hypot(1.0, t);
        rotate(w, p, q, c, c * t);
        rotate(vt, p, q, c, c * t);
      }
    if (!rotated) break;
  }
  std::vector<double> norms(n);
  for (int64_t p = 0; p < n; ++p) norms[p] = std::sqrt(row_dot(w, p, p));
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return norms[x] > norms[y]; });
  SVD out{Matrix(m, n), std::vector<double>(n), Matrix(n, n)};
  for (int64_t j = 0; j < n; ++j) {
    int64_t p = order[j];
    out.S[j] = norms[p];
    for (int64_t i = 0; i < m; ++i) out.U(i, j) = norms[p] > 0 ? w(p, i) / norms[p] : 0.0;
    for (int64_t i = 0; i < n; ++i) out.V(i, j) = vt(p, i);
  }
  return out;
}

SVD svd_of_product(const Matrix& b, const Matrix& a) {
  // b·a = Qb·Rb·Raᵀ·Qaᵀ, so the singular values are those of the small core Rb·Raᵀ.
  QR qb = qr(b), qa = qr(a.transposed());
  SVD core = svd(matmul(qb.R, qa.R.transposed()));
  return {matmul(qb.Q, core.U), core.S, matmul(qa.Q, core.V)};
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
  out.truncate(k);
  return out;
}

}  // namespace ls::linalg
