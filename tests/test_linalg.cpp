// QR and SVD (LAPACK) against naive products and hand-computed factorizations.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "tensor/linalg.h"
#include "tensor/random.h"

using namespace ls;
using linalg::Matrix;

namespace {

// Σ_p a(i, p)·b(p, j) by plain loops; the transposes are index swaps, not Matrix::transposed.
double entry(const Matrix& a, bool ta, const Matrix& b, bool tb, int64_t i, int64_t j) {
  int64_t inner = ta ? a.rows : a.cols;
  double sum = 0.0;
  for (int64_t p = 0; p < inner; ++p) sum += (ta ? a(p, i) : a(i, p)) * (tb ? b(j, p) : b(p, j));
  return sum;
}

// Largest |a·b − want| over all entries.
double product_gap(const Matrix& a, const Matrix& b, const Matrix& want) {
  REQUIRE((a.cols == b.rows && a.rows == want.rows && b.cols == want.cols));
  double gap = 0.0;
  for (int64_t i = 0; i < want.rows; ++i)
    for (int64_t j = 0; j < want.cols; ++j)
      gap = std::max(gap, std::abs(entry(a, false, b, false, i, j) - want(i, j)));
  return gap;
}

void check_orthonormal_columns(const Matrix& q) {
  for (int64_t i = 0; i < q.cols; ++i)
    for (int64_t j = 0; j < q.cols; ++j)
      CHECK(entry(q, true, q, false, i, j) == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
}

// U·diag(S)·Vᵀ, by plain loops.
Matrix reconstruct(const linalg::SVD& s) {
  Matrix us = s.U;
  for (int64_t i = 0; i < us.rows; ++i)
    for (int64_t j = 0; j < us.cols; ++j) us(i, j) *= s.S[j];
  Matrix out(s.U.rows, s.V.rows);
  for (int64_t i = 0; i < out.rows; ++i)
    for (int64_t j = 0; j < out.cols; ++j) out(i, j) = entry(us, false, s.V, true, i, j);
  return out;
}

double max_gap(const Matrix& a, const Matrix& b) {
  double gap = 0.0;
  for (size_t i = 0; i < a.v.size(); ++i) gap = std::max(gap, std::abs(a.v[i] - b.v[i]));
  return gap;
}

void check_signs(const linalg::SVD& s) {
  for (int64_t j = 0; j < s.U.cols; ++j) {
    double largest = 0.0;
    for (int64_t i = 0; i < s.U.rows; ++i)
      if (std::abs(s.U(i, j)) > std::abs(largest)) largest = s.U(i, j);
    CHECK(largest > 0.0);
  }
}

Matrix from_rows(int64_t rows, int64_t cols, std::vector<double> values) {
  Matrix m(rows, cols);
  m.v = std::move(values);
  return m;
}

Matrix random_matrix(int64_t rows, int64_t cols, Rng& rng) {
  return Matrix::from(rand_normal({rows, cols}, 0.0f, 1.0f, rng));
}

}  // namespace

TEST_CASE("QR: orthonormal Q, upper-triangular R with a non-negative diagonal, Q·R = A",
          "[linalg]") {
  Rng rng(41);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{13, 7}, {7, 13}, {9, 9}, {6, 1}}) {
    INFO(rows << "x" << cols);
    Matrix a = random_matrix(rows, cols, rng);
    linalg::QR qr = linalg::qr(a);
    int64_t k = std::min(rows, cols);
    REQUIRE((qr.Q.rows == rows && qr.Q.cols == k && qr.R.rows == k && qr.R.cols == cols));
    CHECK(product_gap(qr.Q, qr.R, a) < 1e-12);
    check_orthonormal_columns(qr.Q);
    for (int64_t i = 0; i < k; ++i) {
      CHECK(qr.R(i, i) >= 0.0);
      for (int64_t j = 0; j < i; ++j) CHECK(qr.R(i, j) == 0.0);
    }
  }
}

TEST_CASE("QR of a hand-worked 2x2", "[linalg]") {
  // Gram–Schmidt by hand: q1 = (3, 4)/5, r12 = q1·(1, 2) = 2.2, (1, 2) − 2.2·q1 = (−0.32, 0.24)
  // of norm 0.4, so q2 = (−0.8, 0.6); a positive diagonal makes this the only answer.
  linalg::QR qr = linalg::qr(from_rows(2, 2, {3, 1, 4, 2}));
  CHECK(max_gap(qr.Q, from_rows(2, 2, {0.6, -0.8, 0.8, 0.6})) < 1e-13);
  CHECK(max_gap(qr.R, from_rows(2, 2, {5, 2.2, 0, 0.4})) < 1e-13);
}

TEST_CASE("SVD: U·diag(S)·Vᵀ = A, orthonormal factors, descending values, fixed signs",
          "[linalg]") {
  Rng rng(42);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{13, 7}, {7, 13}, {9, 9}, {1, 5}}) {
    INFO(rows << "x" << cols);
    Matrix a = random_matrix(rows, cols, rng);
    linalg::SVD s = linalg::svd(a);
    int64_t k = std::min(rows, cols);
    REQUIRE((s.U.rows == rows && s.U.cols == k && s.V.rows == cols && s.V.cols == k));
    REQUIRE(s.S.size() == static_cast<size_t>(k));
    CHECK(max_gap(reconstruct(s), a) < 1e-12);
    check_orthonormal_columns(s.U);
    check_orthonormal_columns(s.V);
    CHECK(std::is_sorted(s.S.rbegin(), s.S.rend()));
    CHECK(s.S.back() >= 0.0);
    check_signs(s);
  }
  Matrix b = random_matrix(20, 3, rng), a = random_matrix(3, 15, rng);
  check_signs(linalg::svd_of_product(b, a));
  check_signs(linalg::randomized_svd(random_matrix(30, 20, rng).to_tensor(), 4, 7));
}

TEST_CASE("SVD of hand-worked matrices", "[linalg]") {
  // AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5 on (1, 1)/√2 and (1, −1)/√2; then
  // u = A·v/σ gives (1, 3)/√10 and (3, −1)/√10, whose largest entries are already positive.
  linalg::SVD s = linalg::svd(from_rows(2, 2, {3, 0, 4, 5}));
  CHECK(s.S[0] == Approx(std::sqrt(45.0)).epsilon(1e-13));
  CHECK(s.S[1] == Approx(std::sqrt(5.0)).epsilon(1e-13));
  const double r10 = std::sqrt(10.0), r2 = std::sqrt(2.0);
  CHECK(max_gap(s.U, from_rows(2, 2, {1 / r10, 3 / r10, 3 / r10, -1 / r10})) < 1e-13);
  CHECK(max_gap(s.V, from_rows(2, 2, {1 / r2, 1 / r2, 1 / r2, -1 / r2})) < 1e-13);

  // ±(3, 4)ᵀ·(1, 2, 2) = ±15·u·vᵀ with u = (0.6, 0.8), v = (1, 2, 2)/3: the sign convention
  // keeps u positive and moves the minus sign into v.
  for (double sign : {1.0, -1.0}) {
    INFO("sign " << sign);
    linalg::SVD r = linalg::svd(from_rows(2, 3,
                                          {3 * sign, 6 * sign, 6 * sign,  //
                                           4 * sign, 8 * sign, 8 * sign}));
    CHECK(r.S[0] == Approx(15.0).epsilon(1e-13));
    CHECK(r.S[1] == Approx(0.0).margin(1e-13));
    CHECK(r.U(0, 0) == Approx(0.6).epsilon(1e-13));
    CHECK(r.U(1, 0) == Approx(0.8).epsilon(1e-13));
    for (int64_t i = 0; i < 3; ++i)
      CHECK(r.V(i, 0) == Approx(sign * (i == 0 ? 1.0 : 2.0) / 3).epsilon(1e-13));
  }
}
