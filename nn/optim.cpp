#include "nn/optim.h"

#include <cmath>

#include "tensor/error.h"
#include "tensor/parallel.h"

namespace ls {

namespace {
// Elements per task in the parameter updates (full fine-tuning updates 124M of them).
constexpr int64_t kGrain = 1 << 15;
}  // namespace

void Optimizer::zero_grad() {
  for (const Tensor& p : params_) p.zero_grad();
}

AdamW::AdamW(std::vector<Tensor> params, Options options)
    : Optimizer(std::move(params)), o_(options) {
  for (const Tensor& p : params_) {
    m_.push_back(Tensor::zeros(p.shape()));
    v_.push_back(Tensor::zeros(p.shape()));
  }
}

void AdamW::step(float lr) {
  ++t_;
  float bc1 = 1.0f - std::pow(o_.beta1, static_cast<float>(t_));
  float bc2_sqrt = std::sqrt(1.0f - std::pow(o_.beta2, static_cast<float>(t_)));
  float step_size = lr / bc1;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    float* p = params_[i].data();
    const float* g = grad.data();
    float* m = m_[i].data();
    float* v = v_[i].data();
    parallel_for(params_[i].numel(), kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        p[j] *= 1.0f - lr * o_.weight_decay;
        m[j] = o_.beta1 * m[j] + (1.0f - o_.beta1) * g[j];
        v[j] = o_.beta2 * v[j] + (1.0f - o_.beta2) * g[j] * g[j];
        p[j] -= step_size * m[j] / (std::sqrt(v[j]) / bc2_sqrt + o_.eps);
      }
    });
  }
}

float LrSchedule::at(int64_t step) const {
  if (step < warmup) return base_lr * static_cast<float>(step + 1) / static_cast<float>(warmup);
  if (decay == Decay::Constant) return base_lr;
  double span = static_cast<double>(std::max<int64_t>(total - warmup, 1));
  double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
  if (decay == Decay::Linear) return static_cast<float>(base_lr * (1.0 - progress));
  return static_cast<float>(base_lr * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

LrSchedule::Decay parse_decay(const std::string& name) {
  if (name == "linear") return LrSchedule::Decay::Linear;
  if (name == "cosine") return LrSchedule::Decay::Cosine;
  if (name == "constant") return LrSchedule::Decay::Constant;
  input_error("unknown learning-rate schedule '{}' (expected linear, cosine or constant)", name);
}

const char* decay_name(LrSchedule::Decay d) {
  switch (d) {
    case LrSchedule::Decay::Linear:
      return "linear";
    case LrSchedule::Decay::Cosine:
      return "cosine";
    case LrSchedule::Decay::Constant:
      return "constant";
  }
  return "?";
}

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
  double total = 0.0;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    for (int64_t j = 0; j < g.numel(); ++j) total += double{g.data()[j]} * g.data()[j];
  }
  float norm = static_cast<float>(std::sqrt(total));
  if (max_norm > 0.0f && norm > max_norm) {
    float factor = max_norm / (norm + 1e-6f);
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      for (int64_t j = 0; j < g.numel(); ++j) g.data()[j] *= factor;
    }
  }
  return norm;
}

}  // namespace ls
