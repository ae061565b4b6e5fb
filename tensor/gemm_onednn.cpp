// GEMM blocks on oneDNN's matmul primitive. Each block runs on the calling thread alone:
// oneDNN's OpenMP is held to one thread on every thread that calls it, so the oneTBB pool,
// which splits products into blocks by shape (tensor/matmul.cpp), stays the only one using the
// cores, and a block computes the same bits whatever the thread count.
#include <omp.h>

#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>

#include "tensor/gemm_kernels.h"
#include "tensor/tensor.h"

namespace ls::detail {

namespace {

using dt = dnnl::memory::data_type;

const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// Everything a primitive is made for: creating one takes far longer than running a small one.
using Key = std::tuple<bool, bool, bool, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       float, float>;

struct Entry {
  dnnl::matmul primitive;
  dnnl::memory::desc a, b, c;
  size_t scratch_bytes = 0;
};

Entry make_entry(const Key& key) {
  auto [bf16, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta] = key;
  dt in = bf16 ? dt::bf16 : dt::f32;
  // op(A) is m × k: stored transposed, its rows are the columns of the stored matrix.
  dnnl::memory::desc a({m, k}, in, ta ? dnnl::memory::dims{1, lda} : dnnl::memory::dims{lda, 1});
  dnnl::memory::desc b({k, n}, in, tb ? dnnl::memory::dims{1, ldb} : dnnl::memory::dims{ldb, 1});
  dnnl::memory::desc c({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
  dnnl::primitive_attr attr;
  // The caller's own scratch, so that threads may run one primitive at once.
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(beta);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine());
  return {dnnl::matmul(pd), a, b, c, pd.scratchpad_desc().get_size()};
}

const Entry& entry(const Key& key) {
  static std::mutex mutex;
  static std::map<Key, Entry> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_entry(key)).first;
  return it->second;  // map entries stay where they are as others are added
}

}  // namespace

void onednn_gemm(bool bf16, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const void* a, int64_t lda, const void* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
  thread_local bool one_thread = (omp_set_num_threads(1), true);
  (void)one_thread;
  const Entry& e = entry({bf16, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta});
  thread_local dnnl::stream stream(engine());
  dnnl::memory am(e.a, engine(), const_cast<void*>(a)), bm(e.b, engine(), const_cast<void*>(b));
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, {e.c, engine(), c}}};
  Tensor scratch;
  if (e.scratch_bytes > 0) {
    scratch = Tensor::empty({static_cast<int64_t>((e.scratch_bytes + 3) / 4)});
    args[DNNL_ARG_SCRATCHPAD] = {
        {{int64_t(e.scratch_bytes)}, dt::u8, {1}}, engine(), scratch.data()};
  }
  e.primitive.execute(stream, args);
  stream.wait();
}

bool onednn_has_avx512() {
  auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  auto avx512 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
  return (isa & avx512) == avx512;
}

bool onednn_has_bf16() {
  static const bool has = [] {
    try {
      make_entry({true, false, false, 16, 16, 16, 16, 16, 16, 1.0f, 0.0f});
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}

}  // namespace ls::detail
