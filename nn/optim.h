#pragma once
// Optimizers, learning-rate schedules and gradient clipping, with PyTorch's semantics.
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace ls {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  // Updates every parameter that has a gradient, using learning rate `lr`.
  virtual void step(float lr) = 0;
  void zero_grad();
  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;
};

// torch.optim.AdamW: decoupled weight decay p ← p − lr·wd·p, then Adam with bias correction,
// p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
class AdamW : public Optimizer {
 public:
  struct Options {
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.01f;
  };
  AdamW(std::vector<Tensor> params, Options options);
  void step(float lr) override;

  // Moments and step count, for checkpoints.
  int64_t steps() const { return t_; }
  std::vector<Tensor>& first_moments() { return m_; }
  std::vector<Tensor>& second_moments() { return v_; }
  void set_steps(int64_t t) { t_ = t; }

 private:
  Options o_;
  int64_t t_ = 0;
  std::vector<Tensor> m_, v_;
};

// Linear warm-up from 0 to base_lr over `warmup` steps, then decay to 0 at `total` steps.
struct LrSchedule {
  enum class Decay { Linear, Cosine, Constant };
  float base_lr = 1e-3f;
  int64_t warmup = 0;
  int64_t total = 1;
  Decay decay = Decay::Linear;
  float at(int64_t step) const;  // learning rate used for the step with this 0-based index
};
LrSchedule::Decay parse_decay(const std::string& name);
const char* decay_name(LrSchedule::Decay decay);  // as parse_decay reads it

// Scales all gradients so their global L2 norm is at most max_norm (torch's
// clip_grad_norm_: factor max_norm / (norm + 1e-6)). Returns the norm before clipping.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

}  // namespace ls
