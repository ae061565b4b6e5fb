// Products of tensors: views handed to the raw gemm (tensor/gemm.cpp) without copies where the
// strides allow, and batched products.
#include <algorithm>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ls::ops {

namespace {

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
