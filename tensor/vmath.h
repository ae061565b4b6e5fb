#pragma once
// Branch-free float math that GCC vectorises inside plain loops (libm's expf and tanhf are
// scalar calls, and made GELU a sixth of a LoRA training step). Internal to tensor/.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ls::vmath {

// e^x to about 2 ulp for x in [−87, 88]; smaller x gives ~1e-38 and larger ~1.6e38 instead of
// 0 and inf, which is harmless where it is used (softmax, sigmoid). Cephes' expf: x = n·ln2 + r
// with |r| ≤ ln2/2, a degree-6 polynomial for e^r, and 2^n built in the exponent bits.
[[gnu::always_inline]] inline float exp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  // Round to nearest by the 1.5·2²³ trick (std::nearbyint does not vectorise).
  constexpr float kShifter = 12582912.0f;
  float n = (x * 1.44269504088896341f + kShifter) - kShifter;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
}

// GELU, tanh form: 0.5·x·(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³), written as x·σ(2u)
// (the same function) so that one exp does it.
constexpr float kGeluK = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;

[[gnu::always_inline]] inline float gelu(float x) {
  float u = kGeluK * (x + kGeluC * x * x * x);
  return x / (1.0f + exp(-2.0f * u));
}

// d gelu / dx = σ(2u) + x·σ(2u)·(1 − σ(2u))·2u'.
[[gnu::always_inline]] inline float gelu_grad(float x) {
  float u = kGeluK * (x + kGeluC * x * x * x);
  float du = kGeluK * (1.0f + 3.0f * kGeluC * x * x);
  float s = 1.0f / (1.0f + exp(-2.0f * u));
  return s + 2.0f * x * s * (1.0f - s) * du;
}

// Row reductions for softmax. Sixteen independent lanes let GCC vectorise them without
// -ffast-math (which would allow reordering everywhere); the order is fixed, so results do
// not depend on the thread count.
constexpr int kLanes = 16;

inline float max_of(const float* x, int64_t n) {
  float acc[kLanes];
  std::fill_n(acc, kLanes, -std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = std::max(acc[l], x[j + l]);
  for (; j < n; ++j) acc[0] = std::max(acc[0], x[j]);
  return *std::max_element(acc, acc + kLanes);
}

// x[j] = e^(x[j] − shift); returns their sum.
inline float exp_shifted_sum(float* x, int64_t n, float shift) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += (x[j + l] = exp(x[j + l] - shift));
  for (; j < n; ++j) acc[0] += (x[j] = exp(x[j] - shift));
  float total = 0.0f;
  for (float a : acc) total += a;
  return total;
}

// Σ f(j) over j < n, accumulated in double (layer norm statistics).
template <typename F>
[[gnu::always_inline]] inline double sum_of(int64_t n, F f) {
  double acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += f(j + l);
  for (; j < n; ++j) acc[0] += f(j);
  double total = 0.0;
  for (double a : acc) total += a;
  return total;
}

// A row of logits becomes its softmax in place; returns log Σ e^x (the log-sum-exp).
inline float softmax_inplace(float* x, int64_t n) {
  float mx = max_of(x, n);
  float total = exp_shifted_sum(x, n, mx);
  float inv = 1.0f / total;
  for (int64_t j = 0; j < n; ++j) x[j] *= inv;
  return mx + std::log(total);
}

}  // namespace ls::vmath
