// The raw gemm: products split into row (or column) blocks of C that oneTBB runs in parallel,
// each block multiplied by one single-threaded library call, so one pool owns the cores. The
// blocks depend on the shape alone, never on the thread count: a BLAS rounds an element
// differently depending on where its tile edges fall, so a split by thread count would make
// every result depend on the machine's core count.
#include <algorithm>

#include "tensor/gemm_kernels.h"
#include "tensor/gemm_library.h"
#include "tensor/gemm_record.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/precision.h"

namespace ls::ops {

namespace {

// Below this many multiply-adds a split costs more than it gains.
constexpr int64_t kSplitWork = int64_t{1} << 20;
constexpr int64_t kBlockAlign = 16;
// About this many rows or columns per block: each block repacks the other operand, which costs
// ~2 % at 256 and ~4 % at 128 (GPT-2 Small shapes, one thread), while more blocks balance
// better over the threads. 256 made the tiny preset's LoRA step 6 % faster than 128 and left
// GPT-2 Small's unchanged. An even block count splits evenly over two threads.
constexpr int64_t kBlockTarget = 256;

enum class Kernel { openblas, onednn_f32, onednn_bf16 };

// A product as the kernels take it; a and b hold floats, or bf16 bits for onednn_bf16.
struct Product {
  Kernel kernel;
  bool ta, tb;
  int64_t m, n, k;
  float alpha;
  const void* a;
  int64_t lda;
  const void* b;
  int64_t ldb;
  float beta;
  float* c;
  int64_t ldc;
};

// One block: rows [start, start + len) of C, or its columns.
void run_block(const Product& p, bool split_rows, int64_t start, int64_t len) {
  size_t elem = p.kernel == Kernel::onednn_bf16 ? 2 : 4;
  auto at = [elem](const void* x, int64_t offset) {
    return static_cast<const char*>(x) + static_cast<size_t>(offset) * elem;
  };
  int64_t m = split_rows ? len : p.m, n = split_rows ? p.n : len;
  const void* a = split_rows ? at(p.a, p.ta ? start : start * p.lda) : p.a;
  const void* b = split_rows ? p.b : at(p.b, p.tb ? start * p.ldb : start);
  float* c = p.c + (split_rows ? start * p.ldc : start);
  // Matrix-vector products stream the matrix once through OpenBLAS's sgemv.
  bool vector = m == 1 || n == 1 || p.k == 0;
  if (p.kernel == Kernel::openblas || (p.kernel == Kernel::onednn_f32 && vector))
    detail::openblas_gemm(p.ta, p.tb, m, n, p.k, p.alpha, static_cast<const float*>(a), p.lda,
                          static_cast<const float*>(b), p.ldb, p.beta, c, p.ldc);
  else
    detail::onednn_gemm(p.kernel == Kernel::onednn_bf16, p.ta, p.tb, m, n, p.k, p.alpha, a, p.lda,
                        b, p.ldb, p.beta, c, p.ldc);
}

void run_split(const Product& p) {
  bool split_rows = p.m >= p.n;  // the longer side of C
  int64_t extent = split_rows ? p.m : p.n;
  if (p.m * p.n * p.k < kSplitWork || extent < 2 * kBlockAlign) {
    run_block(p, split_rows, 0, extent);
    return;
  }
  int64_t parts = (extent + kBlockTarget - 1) / kBlockTarget;
  parts += parts % 2;
  int64_t block = (extent + parts - 1) / parts;
  block = (block + kBlockAlign - 1) / kBlockAlign * kBlockAlign;  // whole BLAS micro-tiles
  int64_t blocks = (extent + block - 1) / block;
  parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      run_block(p, split_rows, i * block, std::min(block, extent - i * block));
  });
}

// A stored operand (rows × cols, leading dimension ld) rounded to bf16 into a contiguous
// buffer: as bit patterns when the hardware multiplies bf16, else as floats.
Tensor to_bf16(const float* x, int64_t rows, int64_t cols, int64_t ld, bool bits) {
  int64_t count = rows * cols;
  Tensor out = Tensor::empty({bits ? (count + 1) / 2 : count});
  auto* words = reinterpret_cast<uint16_t*>(out.data());
  float* floats = out.data();
  parallel_for(rows, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(cols, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r)
                   for (int64_t j = 0; j < cols; ++j) {
                     float v = x[r * ld + j];
                     if (bits)
                       words[r * cols + j] = bf16_bits(v);
                     else
                       floats[r * cols + j] = round_to_bf16(v);
                   }
               });
  return out;
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  num_threads();  // the first call sets OpenBLAS to one thread, before it starts its own pool
  record_gemm({ta, tb, m, n, k});
  Kernel f32 = gemm_library() == GemmLibrary::onednn ? Kernel::onednn_f32 : Kernel::openblas;
  if (gemm_precision() == Precision::f32 || k == 0) {
    run_split({f32, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc});
    return;
  }
  bool bits = native_bf16();
  // The rounded copies are contiguous: their leading dimension is their stored width.
  int64_t a_cols = ta ? m : k, b_cols = tb ? k : n;
  Tensor ra = to_bf16(a, ta ? k : m, a_cols, lda, bits);
  Tensor rb = to_bf16(b, tb ? n : k, b_cols, ldb, bits);
  run_split({bits ? Kernel::onednn_bf16 : f32, ta, tb, m, n, k, alpha, ra.data(), a_cols, rb.data(),
             b_cols, beta, c, ldc});
}

}  // namespace ls::ops
