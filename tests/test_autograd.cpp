// The autograd engine: recording, frozen inputs, accumulation, graph release, and the ops whose
// behaviour is easiest to state by hand (linear layouts, max ties, dropout masks).
#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <thread>

#include "autograd/autograd.h"
#include "tensor/parallel.h"
#include "tests/naive.h"

using namespace ls;
using naive::Arr;

namespace {

Tensor leaf(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = naive::random(shape, rng, lo, hi);
  t.set_requires_grad(true);
  return t;
}

// The [in, out] matrix a weight stands for in either layout.
Arr as_in_out(const Tensor& weight, bool in_out_layout) {
  Arr w = naive::read(weight);
  return in_out_layout ? w : naive::transpose(w);
}

}  // namespace

TEST_CASE("linear in both layouts, with and without bias", "[autograd][linear]") {
  Rng rng(31);
  const int64_t in = 5, out = 3;
  for (bool in_out_layout : {true, false})
    for (bool with_bias : {true, false})
      for (Shape xs : {Shape{4, in}, Shape{2, 3, in}, Shape{1, in}}) {
        INFO("in_out " << in_out_layout << " bias " << with_bias << " x " << shape_to_string(xs));
        Tensor x = leaf(xs, rng);
        Tensor w = leaf(in_out_layout ? Shape{in, out} : Shape{out, in}, rng);
        Tensor b = with_bias ? leaf({out}, rng) : Tensor();
        Tensor y = ag::linear(x, w, b, in_out_layout);
        Arr wio = as_in_out(w, in_out_layout);
        Arr want = naive::matmul(naive::read(x), wio);
        if (with_bias) want = naive::binary(want, naive::read(b), std::plus<double>());
        CHECK(naive::err(y, want) < 1e-6);

        // Backward with a random upstream gradient G: dx = G Wᵀ, dW = Xᵀ G (in [in, out]), db = ΣG.
        Shape ys = xs;
        ys.back() = out;
        Tensor g = naive::random(ys, rng);
        backward(y, g);
        Arr x2 = naive::read(x.view({-1, in})), g2 = naive::read(g.view({-1, out}));
        CHECK(naive::err(x.grad(), naive::matmul(naive::read(g), naive::transpose(wio))) < 1e-6);
        Arr dw = naive::matmul(naive::transpose(x2), g2);
        CHECK(naive::err(w.grad(), in_out_layout ? dw : naive::transpose(dw)) < 1e-6);
        if (with_bias)
          CHECK(naive::err(b.grad(), naive::reduce(g2, 0, false, naive::Reduce::sum)) < 1e-6);
      }
  Rng r2(1);
  CHECK_THROWS_AS(ag::linear(leaf({2, 4}, r2), leaf({5, 3}, r2), Tensor(), true), std::logic_error);
}

TEST_CASE("frozen inputs get no gradient", "[autograd]") {
  Rng rng(32);
  Tensor x = leaf({3, 4}, rng), frozen = naive::random({3, 4}, rng);
  backward(ag::sum_all(ag::mul(x, frozen)));
  CHECK_FALSE(frozen.grad().defined());
  CHECK(naive::err(x.grad(), frozen) == 0.0);  // d(Σ x·y)/dx = y

  // A frozen weight in linear: the input and bias still get theirs.
  Tensor xin = leaf({2, 4}, rng), w = naive::random({4, 3}, rng), b = leaf({3}, rng);
  backward(ag::sum_all(ag::linear(xin, w, b, true)));
  CHECK_FALSE(w.grad().defined());
  CHECK(naive::err(b.grad(), Arr(Shape{3}, 2.0)) == 0.0);
  CHECK(naive::err(
            xin.grad(),
            naive::binary(Arr({2, 4}), naive::reduce(naive::read(w), 1, false, naive::Reduce::sum),
                          std::plus<double>())) < 1e-6);
  // Nothing requires grad: no graph at all, and backward refuses.
  Tensor plain = ag::exp(frozen);
  CHECK_FALSE(plain.requires_grad());
  CHECK(plain.impl()->grad_fn == nullptr);
  CHECK_THROWS_AS(backward(ag::sum_all(plain)), std::logic_error);
}

TEST_CASE("mul and div compute and keep only what the wanted gradients need", "[autograd]") {
  Rng rng(34);
  Tensor x = leaf({2, 3}, rng, 0.5f, 1.5f), frozen = naive::random({2, 3}, rng, 0.5f, 1.5f);
  Tensor g = naive::random({2, 3}, rng);
  Arr ga = naive::read(g), xa = naive::read(x), fa = naive::read(frozen);
  auto times = std::multiplies<double>();
  auto over = std::divides<double>();
  // Each case: the op, which of its two inputs is x (the other is frozen), and by hand the one
  // wanted gradient: d(ab)/da = b, d(ab)/db = a, d(a/b)/da = 1/b, d(a/b)/db = -a/b².
  struct Case {
    const char* name;
    Tensor (*op)(const Tensor&, const Tensor&);
    size_t trained;
    Arr want;
  };
  const Case cases[] = {
      {"mul, frozen b", ag::mul, 0, naive::binary(ga, fa, times)},
      {"mul, frozen a", ag::mul, 1, naive::binary(ga, fa, times)},
      {"div, frozen b", ag::div, 0, naive::binary(ga, fa, over)},
      {"div, frozen a", ag::div, 1,
       naive::binary(naive::binary(ga, fa, times), naive::binary(xa, xa, times),
                     [](double u, double v) { return -u / v; })},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Tensor y = c.trained == 0 ? c.op(x, frozen) : c.op(frozen, x);
    const Node& node = *y.impl()->grad_fn;
    InputGrads d(node.needs_grad);
    node.backward(g, d);  // the closure alone, as backward() would call it
    CHECK_FALSE(d.at(1 - c.trained).defined());
    CHECK(naive::err(d.at(c.trained), c.want) < 1e-6);
  }
  // The gradient of h in h·b and h/b needs b alone, so the graph does not keep h alive.
  for (auto op : {ag::mul, ag::div}) {
    Tensor h = ag::scale(x, 2.0f);
    std::weak_ptr<Storage> data = h.impl()->storage;
    Tensor y = op(h, frozen);
    h = Tensor();
    CHECK(data.expired());
  }
}

TEST_CASE("NoGradGuard records nothing and restores recording", "[autograd]") {
  Rng rng(33);
  Tensor x = leaf({2, 3}, rng);
  CHECK(grad_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    Tensor y = ag::tanh(ag::mul(x, x));
    CHECK_FALSE(y.requires_grad());
    CHECK(y.impl()->grad_fn == nullptr);
    CHECK(naive::err(y, naive::unary(naive::read(x), [](double v) { return std::tanh(v * v); })) <
          1e-6);
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restores "off", not "on"
  }
  CHECK(grad_enabled());
  Tensor z = ag::scale(x, 2.0f);
  CHECK(z.requires_grad());
  CHECK(z.impl()->grad_fn != nullptr);
}

TEST_CASE("gradients accumulate until zero_grad", "[autograd]") {
  Rng rng(34);
  Tensor x = leaf({4}, rng);
  auto step = [&] { backward(ag::sum_all(ag::mul(x, x))); };  // d/dx = 2x
  Arr once = naive::unary(naive::read(x), [](double v) { return 2.0 * v; });
  step();
  CHECK(naive::err(x.grad(), once) < 1e-6);
  step();
  CHECK(naive::err(x.grad(), naive::unary(once, [](double v) { return 2.0 * v; })) < 1e-6);
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  step();
  CHECK(naive::err(x.grad(), once) < 1e-6);
}

TEST_CASE("a reused tensor sums the gradients of all its uses", "[autograd]") {
  Rng rng(35);
  Tensor x = leaf({3}, rng, 0.5f, 2.0f);
  // f = Σ (x·x + x) / x + exp(x) has df/dx = 1 + exp(x): four paths reach x.
  Tensor f = ag::sum_all(ag::add(ag::div(ag::add(ag::mul(x, x), x), x), ag::exp(x)));
  backward(f);
  CHECK(naive::err(x.grad(), naive::unary(naive::read(x),
                                          [](double v) { return 1.0 + std::exp(v); })) < 1e-5);
  // Backward from a leaf seeds its own gradient.
  Tensor s = leaf({}, rng);
  backward(s);
  CHECK(s.grad().item() == 1.0f);
  CHECK_THROWS_AS(backward(ag::mul(x, x)), std::logic_error);  // non-scalar without a gradient
}

TEST_CASE("backward releases the graph", "[autograd]") {
  Rng rng(36);
  Tensor x = leaf({3, 3}, rng);
  Tensor hidden = ag::exp(x);
  std::weak_ptr<TensorImpl> watch = hidden.impl_ptr();
  std::weak_ptr<Node> node = hidden.impl()->grad_fn;
  Tensor loss = ag::sum_all(ag::mul(hidden, hidden));
  hidden = Tensor();
  CHECK_FALSE(watch.expired());  // the mul node still holds it
  backward(loss);
  CHECK(watch.expired());
  CHECK(node.expired());
  CHECK_THROWS_AS(backward(loss), std::logic_error);  // the closures are gone
  CHECK(naive::err(x.grad(), naive::unary(naive::read(x), [](double v) {
                     return 2.0 * std::exp(2.0 * v);
                   })) < 1e-5);
}

TEST_CASE("activations no backward needs are freed during the forward pass", "[autograd]") {
  Rng rng(39);
  Tensor x = leaf({4, 3}, rng), w = naive::random({3, 5}, rng);  // w frozen
  Tensor h = ag::add(x, x);                                      // saves nothing
  std::weak_ptr<TensorImpl> watch = h.impl_ptr();
  std::weak_ptr<Storage> data = h.impl()->storage;
  // A frozen weight's linear needs only the weight; the sum of the next add only shapes.
  Tensor y = ag::add(ag::linear(h, w, Tensor(), true), Tensor::ones({5}));
  h = Tensor();
  CHECK(watch.expired());
  CHECK(data.expired());
  backward(ag::sum_all(y));
  // d Σy / dx = 2 · 1 Wᵀ: the gradient still flows through the node whose input was freed.
  Arr want = naive::matmul(Arr({4, 5}, 2.0), naive::transpose(naive::read(w)));
  CHECK(naive::err(x.grad(), want) < 1e-6);
}

TEST_CASE("a graph that is never back-propagated is freed with its output", "[autograd]") {
  // Any op that keeps its own output alive from its backward closure forms a cycle and leaks.
  Rng rng(37);
  Tensor x = leaf({2, 3, 4}, rng, 0.5f, 1.5f), gamma = leaf({4}, rng), beta = leaf({4}, rng);
  Tensor w = leaf({4, 5}, rng), qkv = leaf({1, 3, 12}, rng), hid = leaf({6, 4}, rng);
  Rng drop(1);
  const std::vector<std::pair<const char*, std::function<Tensor()>>> makers = {
      {"add", [&] { return ag::add(x, x); }},
      {"sub", [&] { return ag::sub(x, x); }},
      {"mul", [&] { return ag::mul(x, x); }},
      {"div", [&] { return ag::div(x, x); }},
      {"scale", [&] { return ag::scale(x, 2.0f); }},
      {"add_scalar", [&] { return ag::add_scalar(x, 2.0f); }},
      {"sum_all", [&] { return ag::sum_all(x); }},
      {"mean_all", [&] { return ag::mean_all(x); }},
      {"transpose", [&] { return ag::transpose(x, 0, 2); }},
      {"embedding",
       [&] {
         return ag::embedding(hid, {1, 0, 5}, {3});
       }},
      {"exp", [&] { return ag::exp(x); }},
      {"tanh", [&] { return ag::tanh(x); }},
      {"sqrt", [&] { return ag::sqrt(x); }},
      {"log", [&] { return ag::log(x); }},
      {"gelu", [&] { return ag::gelu(x); }},
      {"softmax", [&] { return ag::softmax(x, true); }},
      {"sum", [&] { return ag::sum(x, 1, true); }},
      {"mean", [&] { return ag::mean(x, 1, true); }},
      {"max", [&] { return ag::max(x, 1, false); }},
      {"max keepdim", [&] { return ag::max(x, 1, true); }},
      {"reshape",
       [&] {
         return ag::reshape(x, {6, 4});
       }},
      {"permute",
       [&] {
         return ag::permute(x, {2, 0, 1});
       }},
      {"slice", [&] { return ag::slice(x, 2, 1, 3); }},
      {"matmul", [&] { return ag::matmul(x, w); }},
      {"linear", [&] { return ag::linear(x, w, Tensor(), true); }},
      {"layernorm", [&] { return ag::layernorm(x, gamma, beta, 1e-5f); }},
      {"dropout", [&] { return ag::dropout(x, 0.5f, drop); }},
      {"attention", [&] { return ag::attention(qkv, 2); }},
      {"cross_entropy",
       [&] {
         return ag::cross_entropy(hid, {0, 1, 2, 3, 0, 1});
       }},
      {"lm_head_loss",
       [&] {
         return ag::lm_head_loss(hid, w.transpose(0, 1).contiguous(), {0, 1, 2, 3, 4, 0});
       }},
  };
  for (const auto& [name, make] : makers) {
    INFO(name);
    std::weak_ptr<TensorImpl> out;
    std::weak_ptr<Node> node;
    {
      Tensor y = make();
      REQUIRE(y.impl()->grad_fn);
      out = y.impl_ptr();
      node = y.impl()->grad_fn;
    }
    CHECK(out.expired());
    CHECK(node.expired());
  }
}

TEST_CASE("the check for graphs kept alive catches a closure that captures its own output",
          "[autograd]") {
  Rng rng(38);
  Tensor x = leaf({2, 3}, rng);
  std::weak_ptr<TensorImpl> out;
  {
    Tensor y = ops::exp(x);
    record(y, "leaky_exp", {x}, [y](const Tensor& g, InputGrads& d) { d[0] = ops::mul(g, y); });
    out = y.impl_ptr();
  }
  REQUIRE_FALSE(out.expired());  // y → node → closure → y
  out.lock()->grad_fn.reset();   // break the cycle so the test itself does not leak
  CHECK(out.expired());

  // The same op written with record_using_output is freed, and its gradient is exp(x).
  auto exp_op = [](const Tensor& in) {
    return record_using_output(
        ops::exp(in), "exp", {in},
        [](const Tensor& y, const Tensor& g, InputGrads& d) { d[0] = ops::mul(g, y); });
  };
  {
    Tensor y = exp_op(x);
    out = y.impl_ptr();
  }
  CHECK(out.expired());
  backward(ag::sum_all(exp_op(x)));
  CHECK(naive::err(x.grad(), naive::unary(naive::read(x), [](double v) { return std::exp(v); })) <
        1e-6);
}

TEST_CASE("print_graph lists each node's op, output shape and inputs", "[autograd]") {
  Rng rng(40);
  Tensor a = leaf({2, 3}, rng), b = leaf({2, 3}, rng), c = leaf({3}, rng);
  Tensor frozen = naive::random({2, 3}, rng);
  auto print = [](const Tensor& t) {
    std::ostringstream os;
    print_graph(t, os);
    return os.str();
  };
  // Nodes from the root down; leaves numbered as they first appear.
  Tensor loss = ag::sum_all(ag::add(ag::mul(a, b), c));
  CHECK(print(loss) ==
        "n0 sum_all [] <- n1\n"
        "n1 add [2, 3] <- n2, leaf0 [3]\n"
        "n2 mul [2, 3] <- leaf1 [2, 3], leaf2 [2, 3]\n");
  // A node used twice is listed once; an input that needs no gradient is "-".
  Tensor e = ag::exp(a);
  CHECK(print(ag::mean(ag::mul(ag::mul(e, e), frozen), 0)) ==
        "n0 mean [3] <- n1\n"
        "n1 mul [2, 3] <- n2, -\n"
        "n2 mul [2, 3] <- n3, n3\n"
        "n3 exp [2, 3] <- leaf0 [2, 3]\n");
  backward(loss);
  CHECK(print(loss) == "n0 sum_all [] (released)\n");
  CHECK(print(a) == "no graph (a leaf or an untracked tensor)\n");
}

TEST_CASE("max sends the gradient to the first maximum", "[autograd]") {
  Tensor x = Tensor::from({2, 4}, {1, 3, 3, 2, 5, -1, 5, 5});
  x.set_requires_grad(true);
  for (bool keepdim : {false, true}) {
    x.zero_grad();
    Tensor y = ag::max(x, -1, keepdim);
    CHECK(y.shape() == (keepdim ? Shape{2, 1} : Shape{2}));
    CHECK(y.to_vector() == std::vector<float>{3, 5});
    backward(y, Tensor::from(y.shape(), {10, 20}));
    CHECK(x.grad().to_vector() == std::vector<float>{0, 10, 0, 0, 20, 0, 0, 0});
  }
  x.zero_grad();
  backward(ag::sum_all(ag::max(x, 0)));  // column-wise: second row wins except column 1
  CHECK(x.grad().to_vector() == std::vector<float>{0, 1, 0, 0, 1, 0, 1, 1});
}

TEST_CASE("dropout masks, scales survivors and repeats with the seed", "[autograd]") {
  Rng rng(38);
  Tensor x = leaf({200, 50}, rng, 1.0f, 2.0f);
  Rng r0(5);
  CHECK(ag::dropout(x, 0.0f, r0).impl() == x.impl());
  CHECK_THROWS_AS(ag::dropout(x, 1.0f, r0), std::logic_error);

  Rng a(9), b(9);
  Tensor y = ag::dropout(x, 0.25f, a);
  CHECK(naive::same(y, ag::dropout(x, 0.25f, b)));
  Arr rx = naive::read(x), ry = naive::read(y);
  int64_t zeros = 0, bad = 0;
  for (int64_t i = 0; i < rx.numel(); ++i) {
    if (ry.v[i] == 0.0)
      ++zeros;
    else if (std::fabs(ry.v[i] - rx.v[i] / 0.75) > 1e-6)
      ++bad;
  }
  CHECK(bad == 0);
  CHECK(std::fabs(zeros / 10000.0 - 0.25) < 0.02);  // ~4 standard errors
  // The gradient uses the same mask: zero where dropped, 1/(1−p) where kept.
  backward(ag::sum_all(y));
  Arr want = naive::unary(ry, [](double v) { return v == 0.0 ? 0.0 : 1.0 / 0.75; });
  CHECK(naive::err(x.grad(), want) < 1e-6);
}

TEST_CASE("dropout masks do not depend on the thread count, and each call draws a new one",
          "[autograd]") {
  Tensor x = Tensor::ones({300, 200});  // several parallel chunks
  auto mask_with = [&](int threads) {
    set_num_threads(threads);
    Rng r(11);
    return ag::dropout(x, 0.5f, r);
  };
  Tensor one = mask_with(1), two = mask_with(2);
  set_num_threads(0);
  CHECK(naive::same(one, two));
  Rng r(11);
  Tensor first = ag::dropout(x, 0.5f, r), second = ag::dropout(x, 0.5f, r);
  CHECK(naive::same(first, one));
  int64_t differ = 0;
  for (int64_t i = 0; i < x.numel(); ++i) differ += first.data()[i] != second.data()[i];
  CHECK(std::fabs(differ / 60000.0 - 0.5) < 0.02);  // independent masks differ half the time
}

TEST_CASE("a shard of a batch gets the dropout masks of its rows in the whole batch",
          "[autograd]") {
  Tensor whole = Tensor::ones({6, 4, 8});  // (B, T, C), the batch outermost
  Rng r(12);
  Tensor masked = ag::dropout(whole, 0.5f, r);
  for (int64_t first : {0, 2, 5}) {
    int64_t rows = std::min<int64_t>(3, 6 - first);
    Tensor part;
    {
      ag::BatchShardScope scope({first, rows});
      Rng again(12);
      part = ag::dropout(whole.slice(0, first, first + rows).contiguous(), 0.5f, again);
    }
    INFO("rows from " << first);
    CHECK(naive::same(part, masked.slice(0, first, first + rows).contiguous()));
  }
}

TEST_CASE("a batch shard scope restores the shard before it and holds on its own thread only",
          "[autograd]") {
  Tensor whole = Tensor::ones({4, 8});
  auto draw = [&](int64_t first, int64_t rows) {
    Rng r(5);
    return ag::dropout(whole.slice(0, first, first + rows).contiguous(), 0.5f, r);
  };
  Rng r(5);
  Tensor masked = ag::dropout(whole, 0.5f, r);
  Tensor last_rows = masked.slice(0, 2, 4).contiguous();
  {
    ag::BatchShardScope outer({2, 2});
    {
      ag::BatchShardScope inner({0, 4});
      CHECK(naive::same(draw(0, 4), masked));
    }
    CHECK(naive::same(draw(2, 2), last_rows));  // the outer shard again
    Tensor elsewhere;  // another thread sees no shard: rows 2..3 get the masks of rows 0..1
    std::thread([&] { elsewhere = draw(2, 2); }).join();
    CHECK(naive::same(elsewhere, masked.slice(0, 0, 2).contiguous()));
  }
  CHECK(naive::same(draw(0, 4), masked));  // no shard after the last scope
}

TEST_CASE("losses with every target ignored are zero with zero gradient", "[autograd]") {
  Rng rng(39);
  Tensor logits = leaf({3, 5}, rng), hidden = leaf({3, 4}, rng), w = leaf({5, 4}, rng);
  std::vector<int32_t> none = {-100, -100, -100};
  Tensor ce = ag::cross_entropy(logits, none);
  Tensor lm = ag::lm_head_loss(hidden, w, none);
  CHECK(ce.item() == 0.0f);
  CHECK(lm.item() == 0.0f);
  backward(ag::add(ce, lm));
  CHECK(naive::err(logits.grad(), Arr({3, 5})) == 0.0);
  CHECK(naive::err(hidden.grad(), Arr({3, 4})) == 0.0);
  CHECK(naive::err(w.grad(), Arr({5, 4})) == 0.0);
}

TEST_CASE("mean_all, sum and mean gradients by hand", "[autograd]") {
  Tensor x = Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  x.set_requires_grad(true);
  Tensor m = ag::mean_all(x);
  CHECK(m.item() == 3.5f);
  backward(m);
  CHECK(naive::err(x.grad(), Arr({2, 3}, 1.0 / 6.0)) < 1e-7);
  x.zero_grad();
  Tensor s = ag::mean(x, 0);
  CHECK(s.to_vector() == std::vector<float>{2.5f, 3.5f, 4.5f});
  backward(s, Tensor::from({3}, {2, 4, 6}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
  x.zero_grad();
  backward(ag::sum(x, 1, true), Tensor::from({2, 1}, {1, -1}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 1, 1, -1, -1, -1});
}
