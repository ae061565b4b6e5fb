#pragma once
// Finite-difference gradient checking.
//
// The function's output y is reduced to a probe loss L = Σ w·y with fixed random weights w
// (accumulated in double), so every output element matters. Analytic gradients come from
// backward(); numeric ones from central differences (L(x+h) − L(x−h)) / 2h in float32 inputs.
#include <functional>
#include <string>
#include <vector>

#include "autograd/autograd.h"

namespace ls {

struct GradCheckOptions {
  float step = 3e-3f;     // h, relative to max(1, |x|)
  int max_elements = 48;  // per input; larger inputs are sampled deterministically
  uint64_t seed = 1234;
  // Relative errors are measured against at least `relative_floor` × the input's largest
  // analytic gradient: float32 rounding makes tiny entries noisy in absolute terms.
  double relative_floor = 0.05;
  double floor = 1e-4;
  // The worst error that still passes: float32 differences of a correct backward stay well
  // below it, while a wrong factor, sign, transpose or missing input lands far above.
  double tolerance = 1e-2;
};

struct GradCheckResult {
  // per input: max |a − n| / max(|a|, |n|, relative_floor·max|a|, floor)
  std::vector<double> worst_error;
  double worst = 0.0;
  bool passed = false;  // worst < options.tolerance
  std::string report;   // one line per input
};

using GradCheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` are leaf tensors; every one that requires grad is checked. One call checks an op:
//   GradCheckResult r = gradcheck([](const std::vector<Tensor>& in) { return my_op(in[0]); }, {x});
//   if (!r.passed) std::cerr << r.report;
GradCheckResult gradcheck(const GradCheckFn& fn, const std::vector<Tensor>& inputs,
                          const GradCheckOptions& options = {});

}  // namespace ls
