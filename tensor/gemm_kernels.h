#pragma once
// One block of a matrix product, single-threaded, in one library (internal to tensor/;
// tensor/matmul.cpp splits products into blocks and picks the kernel). Operands are row-major
// with leading dimensions, as in ops::gemm; C = alpha · op(A)·op(B) + beta · C, C not read
// when beta = 0.
#include <cstdint>

namespace ls::detail {

void openblas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// With `bf16`, a and b hold bf16 bit patterns (uint16_t); else floats.
void onednn_gemm(bool bf16, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const void* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c,
                 int64_t ldc);

// Whether oneDNN's JIT found AVX-512, and whether it has a bf16 matmul on this CPU.
bool onednn_has_avx512();
bool onednn_has_bf16();

}  // namespace ls::detail
