// Matrix products on OpenBLAS sgemm. OpenBLAS runs single-threaded; large products are split
// into row (or column) blocks of C that oneTBB runs in parallel, so one pool owns the cores.
// The blocks depend on the shape alone, never on the thread count: OpenBLAS rounds an element
// differently depending on where the tile edges fall, so a split by thread count would make
// every result depend on the machine's core count.
#include <cblas.h>

#include <algorithm>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

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

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (try_sgemv(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
              static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// How a matrix operand (last two dims) is handed to BLAS without copying.
struct Operand {
  Tensor t;  // the tensor actually read (possibly a contiguous copy)
  bool trans = false;
  int64_t ld = 0;
};

Operand as_blas_operand(const Tensor& t) {
  int64_t rows = t.size(-2), cols = t.size(-1);
  int64_t rs = t.strides()[t.dim() - 2], cs = t.strides()[t.dim() - 1];
  if ((cs == 1 || cols == 1) && rs >= std::max<int64_t>(cols, 1)) return {t, false, rs};
  if ((rs == 1 || rows == 1) && cs >= std::max<int64_t>(rows, 1)) return {t, true, cs};
  Tensor c = t.contiguous();
  return {c, false, std::max<int64_t>(cols, 1)};
}

// Offset of batch `index` for a tensor broadcast over `batch` leading dims.
int64_t batch_offset(int64_t index, const Shape& batch, const Tensor& t) {
  int64_t offset = 0, lead = static_cast<int64_t>(batch.size()) - (t.dim() - 2);
  for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
    int64_t i = index % batch[d];
    index /= batch[d];
    int64_t td = d - lead;
    if (td >= 0 && t.shape()[td] != 1) offset += i * t.strides()[td];
  }
  return offset;
}

// The leading dimension of a 2-D operand handed to BLAS without a copy.
int64_t leading_dim(const Tensor& t, const char* name) {
  LS_CHECK(t.dim() == 2, "gemm: {} must be 2-D, got {}", name, t.shape_str());
  int64_t rows = t.size(0), cols = t.size(1);
  LS_CHECK(cols <= 1 || t.strides()[1] == 1, "gemm: {} {} needs rows of stride 1, has strides {}",
           name, t.shape_str(), shape_to_string(t.strides()));
  int64_t ld = rows > 1 ? t.strides()[0] : std::max<int64_t>(cols, 1);  // one row: unused
  LS_CHECK(ld >= std::max<int64_t>(cols, 1), "gemm: {} {} has overlapping rows (strides {})", name,
           t.shape_str(), shape_to_string(t.strides()));
  return ld;
}

}  // namespace

void gemm(const Tensor& c, const Tensor& a, const Tensor& b, GemmOptions o) {
  int64_t lda = leading_dim(a, "A"), ldb = leading_dim(b, "B"), ldc = leading_dim(c, "C");
  int64_t m = a.size(o.trans_a ? 1 : 0), k = a.size(o.trans_a ? 0 : 1);
  int64_t n = b.size(o.trans_b ? 0 : 1);
  LS_CHECK(b.size(o.trans_b ? 1 : 0) == k && c.size(0) == m && c.size(1) == n,
           "gemm: op(A)·op(B) = {}{}·{}{} does not fit C {}", a.shape_str(), o.trans_a ? "ᵀ" : "",
           b.shape_str(), o.trans_b ? "ᵀ" : "", c.shape_str());
  gemm(o.trans_a, o.trans_b, m, n, k, o.alpha, a.data(), lda, b.data(), ldb, o.beta, c.data(), ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  num_threads();  // the first call sets OpenBLAS to one thread, before it starts its own pool
  bool split_rows = m >= n;  // the longer side of C
  int64_t extent = split_rows ? m : n;
  if (m * n * k < kSplitWork || extent < 2 * kBlockAlign) {
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  int64_t parts = (extent + kBlockTarget - 1) / kBlockTarget;
  parts += parts % 2;
  int64_t block = (extent + parts - 1) / parts;
  block = (block + kBlockAlign - 1) / kBlockAlign * kBlockAlign;  // whole BLAS micro-tiles
  int64_t blocks = (extent + block - 1) / block;
  parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      int64_t start = i * block, len = std::min(block, extent - start);
      if (split_rows)
        sgemm(ta, tb, len, n, k, alpha, ta ? a + start : a + start * lda, lda, b, ldb, beta,
              c + start * ldc, ldc);
      else
        sgemm(ta, tb, m, len, k, alpha, a, lda, tb ? b + start * ldb : b + start, ldb, beta,
              c + start, ldc);
    }
  });
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  LS_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul needs matrices, got {} and {}", a.shape_str(),
           b.shape_str());
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  LS_CHECK(b.size(-2) == k, "matmul shapes {} and {} do not match", a.shape_str(), b.shape_str());
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2));
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape);
  int64_t batches = shape_numel(batch);
  if (out.numel() == 0) return out;
  if (k == 0) {
    out.fill(0.0f);
    return out;
  }
  // A contiguous stack of matrices times one shared matrix is a single tall GEMM.
  bool b_shared = b.dim() == 2;
  if (b_shared && a.is_contiguous()) {
    Operand ob = as_blas_operand(b);
    gemm(false, ob.trans, batches * m, n, k, 1.0f, a.data(), k, ob.t.data(), ob.ld, 0.0f,
         out.data(), n);
    return out;
  }
  Operand oa = as_blas_operand(a), ob = as_blas_operand(b);
  parallel_for(batches, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      gemm(oa.trans, ob.trans, m, n, k, 1.0f, oa.t.data() + batch_offset(i, batch, oa.t), oa.ld,
           ob.t.data() + batch_offset(i, batch, ob.t), ob.ld, 0.0f, out.data() + i * m * n, n);
  });
  return out;
}

}  // namespace ls::ops
