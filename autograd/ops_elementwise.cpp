// Autograd for elementwise ops and reductions.
#include "autograd/autograd.h"
#include "tensor/error.h"

namespace ls::ag {

using Grads = InputGrads;

// Sums and differences need only the shapes back, not the operands (often activations).
Tensor add(const Tensor& a, const Tensor& b) {
  return record(ops::add(a, b), "add", {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& d) {
                  if (d.wants(0)) d[0] = ops::sum_to(g, sa);
                  if (d.wants(1)) d[1] = ops::sum_to(g, sb);
                });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record(ops::sub(a, b), "sub", {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& d) {
                  if (d.wants(0)) d[0] = ops::sum_to(g, sa);
                  if (d.wants(1)) d[1] = ops::sum_to(ops::scale(g, -1.0f), sb);
                });
}

// Each input's gradient needs the other operand, so an operand is kept only when the other
// input wants a gradient (a frozen factor does not keep its partner alive).
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor keep_a = b.requires_grad() ? a : Tensor(), keep_b = a.requires_grad() ? b : Tensor();
  return record(ops::mul(a, b), "mul", {a, b},
                [keep_a, keep_b, sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& d) {
                  if (d.wants(0)) d[0] = ops::sum_to(ops::mul(g, keep_b), sa);
                  if (d.wants(1)) d[1] = ops::sum_to(ops::mul(g, keep_a), sb);
                });
}

// d(a/b)/da = 1/b needs only b; d(a/b)/db = -a/b² needs both.
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor keep_a = b.requires_grad() ? a : Tensor();
  return record(
      ops::div(a, b), "div", {a, b}, [keep_a, b, sa = a.shape()](const Tensor& g, Grads& d) {
        Tensor ga = ops::div(g, b);  // g/b, part of both gradients
        if (d.wants(0)) d[0] = ops::sum_to(ga, sa);
        if (d.wants(1))
          d[1] = ops::sum_to(ops::scale(ops::div(ops::mul(ga, keep_a), b), -1.0f), b.shape());
      });
}

Tensor scale(const Tensor& a, float s) {
  return record(ops::scale(a, s), "scale", {a},
                [s](const Tensor& g, Grads& d) { d[0] = ops::scale(g, s); });
}

Tensor add_scalar(const Tensor& a, float s) {
  return record(ops::add_scalar(a, s), "add_scalar", {a},
                [](const Tensor& g, Grads& d) { d[0] = g; });
}

Tensor exp(const Tensor& a) {
  return record_using_output(ops::exp(a), "exp", {a},
                             [](const Tensor& y, const Tensor& g, Grads& d) {
                               d[0] = ops::mul(g, y);  // d exp = exp
                             });
}

Tensor log(const Tensor& a) {
  return record(ops::log(a), "log", {a}, [a](const Tensor& g, Grads& d) { d[0] = ops::div(g, a); });
}

Tensor tanh(const Tensor& a) {
  return record_using_output(
      ops::tanh(a), "tanh", {a}, [](const Tensor& y, const Tensor& g, Grads& d) {
        // d tanh = 1 - tanh²
        d[0] = ops::mul(g, ops::add_scalar(ops::scale(ops::mul(y, y), -1.0f), 1.0f));
      });
}

Tensor sqrt(const Tensor& a) {
  return record_using_output(ops::sqrt(a), "sqrt", {a},
                             [](const Tensor& y, const Tensor& g, Grads& d) {
                               d[0] = ops::div(ops::scale(g, 0.5f), y);  // 1 / (2 sqrt)
                             });
}

Tensor gelu(const Tensor& x) {
  return record(ops::gelu(x), "gelu", {x},
                [x](const Tensor& g, Grads& d) { d[0] = ops::gelu_backward(x, g); });
}

namespace {
// Spreads the gradient of a reduction over `axis` back over the reduced input's shape.
Tensor unreduce(const Tensor& g, const Shape& input_shape, int64_t axis) {
  Shape kept = input_shape;
  kept[axis] = 1;
  return ops::broadcast_to(g.contiguous().view(kept), input_shape);
}
}  // namespace

Tensor sum(const Tensor& a, int64_t axis, bool keepdim) {
  int64_t ax = wrap_axis(axis, a.dim());
  Shape shape = a.shape();
  return record(ops::sum(a, ax, keepdim), "sum", {a},
                [shape, ax](const Tensor& g, Grads& d) { d[0] = unreduce(g, shape, ax); });
}

Tensor mean(const Tensor& a, int64_t axis, bool keepdim) {
  int64_t ax = wrap_axis(axis, a.dim());
  Shape shape = a.shape();
  float inv = 1.0f / static_cast<float>(shape[ax]);
  return record(ops::mean(a, ax, keepdim), "mean", {a},
                [shape, ax, inv](const Tensor& g, Grads& d) {
                  d[0] = unreduce(ops::scale(g, inv), shape, ax);
                });
}

Tensor max(const Tensor& a, int64_t axis, bool keepdim) {
  int64_t ax = wrap_axis(axis, a.dim());
  Tensor y = ops::max(a, ax, true);
  Tensor out = keepdim ? y : y.view([&] {
    Shape s = y.shape();
    s.erase(s.begin() + ax);
    return s;
  }());
  // Only y's shape is kept: with keepdim, y is the output itself, and holding it here would
  // make a reference cycle through its grad_fn.
  return record(out, "max", {a}, [a, kept = y.shape(), ax](const Tensor& g, Grads& d) {
    // Route each gradient to the first position that attains the maximum.
    Tensor src = a.contiguous();
    Tensor gk = unreduce(g, kept, ax);  // g in keepdim shape, contiguous
    Tensor dx = Tensor::zeros(a.shape());
    int64_t n = a.shape()[ax], outer = 1, inner = 1;
    for (int64_t i = 0; i < ax; ++i) outer *= a.shape()[i];
    for (int64_t i = ax + 1; i < a.dim(); ++i) inner *= a.shape()[i];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < inner; ++k) {
        const float* p = src.data() + o * n * inner + k;
        int64_t best = 0;
        for (int64_t j = 1; j < n; ++j)
          if (p[j * inner] > p[best * inner]) best = j;
        dx.data()[o * n * inner + best * inner + k] = gk.data()[o * inner + k];
      }
    d[0] = dx;
  });
}

Tensor sum_all(const Tensor& a) {
  Shape shape = a.shape();
  return record(ops::sum_all(a), "sum_all", {a},
                [shape](const Tensor& g, Grads& d) { d[0] = Tensor::full(shape, g.item()); });
}

Tensor mean_all(const Tensor& a) {
  return scale(sum_all(a), 1.0f / static_cast<float>(std::max<int64_t>(a.numel(), 1)));
}

}  // namespace ls::ag
