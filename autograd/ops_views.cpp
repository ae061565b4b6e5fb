// Autograd for views: the forward shares storage, the backward routes the gradient back.
#include <numeric>

#include "autograd/autograd.h"

namespace ls::ag {

using Grads = InputGrads;

Tensor reshape(const Tensor& a, const Shape& shape) {
  Shape original = a.shape();
  return record(a.reshape(shape), "reshape", {a},
                [original](const Tensor& g, Grads& d) { d[0] = g.reshape(original); });
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  return record(a.transpose(d0, d1), "transpose", {a},
                [d0, d1](const Tensor& g, Grads& d) { d[0] = g.transpose(d0, d1).contiguous(); });
}

Tensor permute(const Tensor& a, const std::vector<int64_t>& order) {
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[wrap_axis(order[i], a.dim())] = i;
  return record(a.permute(order), "permute", {a},
                [inverse](const Tensor& g, Grads& d) { d[0] = g.permute(inverse).contiguous(); });
}

Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end) {
  Shape shape = a.shape();
  int64_t ax = wrap_axis(dim, a.dim());
  return record(a.slice(ax, start, end), "slice", {a},
                [shape, ax, start, end](const Tensor& g, Grads& d) {
                  Tensor full = Tensor::zeros(shape);
                  full.slice(ax, start, end).copy_from(g);
                  d[0] = full;
                });
}

}  // namespace ls::ag
