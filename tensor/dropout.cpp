// Dropout masks from a counter-based hash instead of a sequential generator: every element
// is decided independently, so the kernel runs in parallel and its backward needs no mask.
#include <cmath>

#include "tensor/error.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"

namespace ls::ops {

namespace {

// A 32-bit integer hash (xorshift-multiply rounds with the "lowbias32" constants). Only 32-bit
// multiplies, so GCC runs the mask loop eight lanes wide on AVX2, where a 64-bit hash would
// stay scalar and cost a fifth of a LoRA training step.
[[gnu::always_inline]] inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// dst[i] = src[i] · (dropped ? 0 : keep) for i in [lo, hi); a plain loop over plain values, so
// that GCC vectorises it.
void apply_mask(const float* src, float* dst, int64_t lo, int64_t hi, uint32_t threshold,
                float keep, uint64_t key, uint32_t first) {
  auto k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int64_t i = lo; i < hi; ++i) {
    uint32_t h = hash32(hash32((first + static_cast<uint32_t>(i)) ^ k0) + k1);
    dst[i] = src[i] * (h < threshold ? 0.0f : keep);
  }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, uint64_t key, int64_t first_index) {
  LS_CHECK(p >= 0.0f && p < 1.0f, "dropout probability {} outside [0, 1)", p);
  Tensor in = x.contiguous();
  Tensor out = Tensor::empty(x.shape());
  LS_CHECK(first_index >= 0 && first_index + in.numel() <= (int64_t{1} << 32),
           "dropout of elements {}..{}: the index is 32-bit", first_index,
           first_index + in.numel());
  auto first = static_cast<uint32_t>(first_index);
  // Dropped when the hash falls below p·2³²: p to within 1 part in 4·10⁹.
  auto threshold = static_cast<uint32_t>(std::ldexp(static_cast<double>(p), 32));
  float keep = 1.0f / (1.0f - p);
  const float* src = in.data();
  float* dst = out.data();
  parallel_for(in.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
    apply_mask(src, dst, lo, hi, threshold, keep, key, first);
  });
  return out;
}

}  // namespace ls::ops
