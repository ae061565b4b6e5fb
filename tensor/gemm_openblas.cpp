// GEMM blocks on OpenBLAS (single-threaded: tensor/parallel.cpp keeps it at one thread).
#include <cblas.h>

#include "tensor/gemm_kernels.h"

namespace ls::detail {

namespace {

int blas_int(int64_t v) { return static_cast<int>(v); }

// A product with one row or one column of C is a matrix-vector product. OpenBLAS's sgemm
// would still pack the whole matrix first (a full copy of a weight per generated token), so
// it goes to sgemv, which streams the matrix once.
bool try_sgemv(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if ((m != 1 && n != 1) || k == 0) return false;
  const float *mat, *vec;
  int64_t rows, cols, ld, inc_vec, inc_out;
  bool trans;
  if (m == 1) {  // c[0, :] = op(A)[0, :] op(B): op(B) is the matrix
    mat = b, ld = ldb, vec = a, inc_vec = ta ? lda : 1, inc_out = 1;
    trans = !tb, rows = tb ? n : k, cols = tb ? k : n;
  } else {  // c[:, 0] = op(A) op(B)[:, 0]: op(A) is the matrix
    mat = a, ld = lda, vec = b, inc_vec = tb ? 1 : ldb, inc_out = ldc;
    trans = ta, rows = ta ? k : m, cols = ta ? m : k;
  }
  int64_t len = m == 1 ? n : m;
  if (beta == 0.0f)  // sgemv scales y by beta, and 0 · garbage may be NaN
    for (int64_t i = 0; i < len; ++i) c[i * inc_out] = 0.0f;
  cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, blas_int(rows), blas_int(cols),
              alpha, mat, blas_int(ld), vec, blas_int(inc_vec), beta, c, blas_int(inc_out));
  return true;
}

}  // namespace

void openblas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (try_sgemv(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace ls::detail
