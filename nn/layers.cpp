#include "nn/layers.h"

namespace ls {

Linear::Linear(int64_t in, int64_t out, Layout layout, bool bias)
    : in_(in), out_(out), layout_(layout) {
  weight_ = register_parameter(
      "weight", Tensor::zeros(layout == Layout::InOut ? Shape{in, out} : Shape{out, in}));
  if (bias) bias_ = register_parameter("bias", Tensor::zeros({out}));
}

Tensor Linear::forward(const Tensor& x) {
  Tensor y = !bf16_weight_.empty() && !grad_enabled()
                 ? ops::linear_bf16(x, bf16_weight_, bias_)
                 : ag::linear(x, weight_, bias_, layout_ == Layout::InOut);
  for (auto& adapter : adapters_) y = ag::add(y, adapter->delta(x, training()));
  return y;
}

void Linear::keep_bf16_weight(bool on) {
  bf16_weight_ =
      !on ? Bf16Matrix() : Bf16Matrix(layout_ == Layout::InOut ? weight_.transpose(0, 1) : weight_);
}

LayerNorm::LayerNorm(int64_t width, float eps) : eps_(eps) {
  weight_ = register_parameter("weight", Tensor::ones({width}));
  bias_ = register_parameter("bias", Tensor::zeros({width}));
}

Tensor LayerNorm::forward(const Tensor& x) { return ag::layernorm(x, weight_, bias_, eps_); }

Embedding::Embedding(int64_t count, int64_t width) {
  weight_ = register_parameter("weight", Tensor::zeros({count, width}));
}

Tensor Embedding::forward(const std::vector<int32_t>& ids, const Shape& ids_shape) {
  return ag::embedding(weight_, ids, ids_shape);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!training() || p_ == 0.0f) return x;
  return ag::dropout(x, p_, rng_);
}

}  // namespace ls
