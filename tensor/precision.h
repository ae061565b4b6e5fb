#pragma once
// Mixed precision for matrix products. Under bf16 every GEMM rounds its two inputs to
// bfloat16 (round to nearest, ties to even) and accumulates in float32, as PyTorch's CPU
// autocast does; weights, gradients, optimizer state and every other kernel (softmax, layer
// norm, the loss) stay float32. A product of two bf16 numbers is exact in float32, so the
// result is the same whether the hardware multiplies bf16 (oneDNN on AVX512-BF16) or float32
// copies of the rounded inputs (elsewhere), up to the order of the additions.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace ls {

enum class Precision { f32, bf16 };

const char* precision_name(Precision p);  // "f32" or "bf16"
std::optional<Precision> parse_precision(std::string_view name);

// The precision GEMMs use now: f32 unless a PrecisionScope is open.
Precision gemm_precision();

// GEMMs use `p` until the scope closes. The setting is process-wide, since the pool's threads
// run the products, so only the thread that drives a training or an evaluation opens one.
class PrecisionScope {
 public:
  explicit PrecisionScope(Precision p);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision previous_;
};

// The bf16 nearest to x: the top 16 bits of its float32 after rounding the low 16 to even.
// NaN stays NaN (a quiet one); values past bf16's largest finite round to infinity.
inline uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float bf16_to_float(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

inline float round_to_bf16(float x) { return bf16_to_float(bf16_bits(x)); }

}  // namespace ls
