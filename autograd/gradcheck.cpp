#include "autograd/gradcheck.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace ls {

namespace {

double probe_loss(const Tensor& y, const std::vector<float>& w) {
  std::vector<float> values = y.to_vector();
  double total = 0.0;
  for (size_t i = 0; i < values.size(); ++i) total += static_cast<double>(values[i]) * w[i];
  return total;
}

// Which flat indices of an input to check: all of them, or an even sample.
std::vector<int64_t> sample_indices(int64_t numel, int max_elements, Rng& rng) {
  std::vector<int64_t> idx;
  if (numel <= max_elements) {
    for (int64_t i = 0; i < numel; ++i) idx.push_back(i);
    return idx;
  }
  for (int i = 0; i < max_elements; ++i) idx.push_back(rng.below(numel));
  return idx;
}

}  // namespace

GradCheckResult gradcheck(const GradCheckFn& fn, const std::vector<Tensor>& inputs,
                          const GradCheckOptions& options) {
  for (const Tensor& t : inputs)
    LS_CHECK(!t.defined() || t.is_contiguous(), "gradcheck inputs must be contiguous");
  Rng rng(options.seed);
  for (const Tensor& t : inputs)
    if (t.defined()) t.zero_grad();
  Tensor y = fn(inputs);
  std::vector<float> w(y.numel());
  for (float& v : w) v = rng.uniform(-1.0f, 1.0f);
  backward(y, Tensor::from(y.shape(), w));

  GradCheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    double worst = 0.0;
    if (x.defined() && x.requires_grad()) {
      Tensor analytic = x.grad();
      double largest = 0.0;
      if (analytic.defined())
        for (float v : analytic.to_vector()) largest = std::max(largest, std::fabs(double{v}));
      double scale = std::max(options.floor, options.relative_floor * largest);
      for (int64_t i : sample_indices(x.numel(), options.max_elements, rng)) {
        float original = x.data()[i];
        float h = options.step * std::max(1.0f, std::fabs(original));
        x.data()[i] = original + h;
        double plus = probe_loss(fn(inputs), w);
        x.data()[i] = original - h;
        double minus = probe_loss(fn(inputs), w);
        x.data()[i] = original;
        double numeric = (plus - minus) / (2.0 * h);
        double a = analytic.defined() ? analytic.data()[i] : 0.0;
        double err = std::fabs(a - numeric) / std::max({std::fabs(a), std::fabs(numeric), scale});
        worst = std::max(worst, err);
      }
    }
    result.worst_error.push_back(worst);
    result.worst = std::max(result.worst, worst);
    result.report += fmt::format("input {}: worst relative error {:.3e}\n", k, worst);
  }
  result.passed = result.worst < options.tolerance;
  return result;
}

}  // namespace ls
