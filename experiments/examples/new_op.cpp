// Define a new differentiable op and prove its gradient. An op is a forward computation plus a
// closure, recorded on the output, that turns the output's gradient into the inputs'; the
// gradient check compares that closure with finite differences. A planted mistake shows what
// a wrong backward looks like. Run it with no arguments: build/examples/new_op
#include <fmt/format.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "tensor/random.h"

using namespace ls;

// softplus(x) = log(1 + eˣ), a smooth ReLU; its derivative is the logistic σ(x) = 1/(1 + e⁻ˣ).
float softplus_at(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }
float sigmoid_at(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The op: y = softplus(x) element by element. `record` attaches the backward closure when x
// requires a gradient; the closure captures x (not y: an output capturing itself would keep
// itself alive) and fills d[0], the gradient for input 0.
Tensor softplus(const Tensor& x, bool planted_bug = false) {
  Tensor in = x.contiguous();
  Tensor y = Tensor::empty(in.shape());
  for (int64_t i = 0; i < in.numel(); ++i) y.data()[i] = softplus_at(in.data()[i]);
  return record(y, "softplus", {x}, [in, planted_bug](const Tensor& g, InputGrads& d) {
    Tensor dx = Tensor::empty(in.shape());
    Tensor gc = g.contiguous();
    for (int64_t i = 0; i < in.numel(); ++i) {
      float slope = planted_bug ? sigmoid_at(2.0f * in.data()[i]) : sigmoid_at(in.data()[i]);
      dx.data()[i] = gc.data()[i] * slope;
    }
    d[0] = dx;
  });
}

int main() {
  Rng rng(7);
  Tensor x = rand_normal({4, 5}, 0.0f, 2.0f, rng).set_requires_grad(true);

  // The check reduces the op's output to Σ w·y with random w, then compares ∂/∂x from
  // backward() with (L(x+h) − L(x−h)) / 2h, element by element.
  GradCheckResult good =
      gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
  GradCheckResult bad =
      gradcheck([](const std::vector<Tensor>& in) { return softplus(in[0], true); }, {x});
  fmt::print("softplus, correct backward: worst relative error {:.1e}\n", good.worst);
  fmt::print("softplus, planted bug:      worst relative error {:.1e}\n", bad.worst);

  // Ops compose: the new op inside a larger expression still back-propagates.
  Tensor loss = ag::mean_all(ag::mul(softplus(x), x));
  backward(loss);
  fmt::print("d mean(softplus(x)·x) / dx[0][0] = {:.4f}\n", x.grad().data()[0]);
  return good.passed && !bad.passed ? 0 : 1;
}
