// Backward of every ag:: op through the finite-difference checker, composite models (the
// reference attention and LM-head loss among them), the fused kernels against those
// references, and a deliberately wrong backward that must be caught.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "autograd/gradcheck.h"
#include "gpt2/reference.h"
#include "tests/naive.h"

using namespace ls;

namespace {

using Inputs = std::vector<Tensor>;

Tensor leaf(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = naive::random(shape, rng, lo, hi);
  t.set_requires_grad(true);
  return t;
}

// Distinct values at least 0.05 apart in random order, so that no finite-difference step
// (3e-3) can change which element is the maximum.
Tensor separated_leaf(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) t.data()[i] = 0.05f * static_cast<float>(i - n / 2);
  for (int64_t i = n - 1; i > 0; --i) std::swap(t.data()[i], t.data()[rng.below(i + 1)]);
  t.set_requires_grad(true);
  return t;
}

// Runs the checker; LS_GRADCHECK_REPORT=1 prints each check's worst error.
GradCheckResult check_grad(const std::string& name, const GradCheckFn& fn, const Inputs& inputs) {
  GradCheckResult r = gradcheck(fn, inputs);
  INFO(name << "\n" << r.report);
  CHECK(r.worst_error.size() == inputs.size());
  CHECK(r.passed);
  if (std::getenv("LS_GRADCHECK_REPORT")) std::printf("%-44s %.3e\n", name.c_str(), r.worst);
  return r;
}

// y = x² with its backward scaled by `factor`: 1 is correct, anything else is a planted bug.
Tensor square(const Tensor& x, float factor) {
  return record(ops::mul(x, x), "square", {x}, [x, factor](const Tensor& g, InputGrads& d) {
    d[0] = ops::scale(ops::mul(g, x), 2.0f * factor);
  });
}

}  // namespace

TEST_CASE("gradcheck: broadcasting binary ops", "[gradcheck]") {
  Rng rng(41);
  using Binary = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Binary> table[] = {
      {"add", ag::add}, {"sub", ag::sub}, {"mul", ag::mul}, {"div", ag::div}};
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{3, 4}, {3, 4}}, {{3, 1, 4}, {2, 4}}, {{4}, {2, 3, 4}}, {{}, {2, 3}},
      {{2, 3}, {}},     {{2, 1}, {1, 3}},    {{}, {}}};
  for (auto [sa, sb] : pairs)
    for (const auto& [name, op_ptr] : table) {
      Binary op = op_ptr;  // a plain variable: clang < 16 cannot capture structured bindings
      Tensor a = leaf(sa, rng), b = leaf(sb, rng, 0.5f, 1.5f);
      check_grad(std::string(name) + " " + shape_to_string(sa) + " " + shape_to_string(sb),
                 [op](const Inputs& in) { return op(in[0], in[1]); }, {a, b});
    }
}

TEST_CASE("gradcheck: unary ops", "[gradcheck]") {
  Rng rng(42);
  struct Unary {
    const char* name;
    std::function<Tensor(const Tensor&)> op;
    float lo, hi;
  };
  const Unary table[] = {
      {"scale", [](const Tensor& x) { return ag::scale(x, -1.7f); }, -1.0f, 1.0f},
      {"add_scalar", [](const Tensor& x) { return ag::add_scalar(x, 3.0f); }, -1.0f, 1.0f},
      {"exp", ag::exp, -2.0f, 2.0f},
      {"log", ag::log, 0.3f, 3.0f},
      {"tanh", ag::tanh, -2.0f, 2.0f},
      {"sqrt", ag::sqrt, 0.3f, 3.0f},
      {"gelu", ag::gelu, -4.0f, 4.0f},
  };
  for (const Unary& u : table) {
    auto op = u.op;
    check_grad(u.name, [op](const Inputs& in) { return op(in[0]); },
               {leaf({3, 5}, rng, u.lo, u.hi)});
    // Through a transposed view, so the kernel sees a strided input.
    check_grad(std::string(u.name) + " of transpose",
               [op](const Inputs& in) { return op(ag::transpose(in[0], 0, 1)); },
               {leaf({4, 2}, rng, u.lo, u.hi)});
  }
}

TEST_CASE("gradcheck: reductions", "[gradcheck]") {
  Rng rng(43);
  for (int64_t axis : {0, 1, -1})
    for (bool keepdim : {false, true}) {
      std::string tag = " axis " + std::to_string(axis) + (keepdim ? " keepdim" : "");
      check_grad("sum" + tag, [=](const Inputs& in) { return ag::sum(in[0], axis, keepdim); },
                 {leaf({2, 3, 4}, rng)});
      check_grad("mean" + tag, [=](const Inputs& in) { return ag::mean(in[0], axis, keepdim); },
                 {leaf({2, 3, 4}, rng)});
      check_grad("max" + tag, [=](const Inputs& in) { return ag::max(in[0], axis, keepdim); },
                 {separated_leaf({2, 3, 4}, rng)});
      check_grad("max of permute" + tag,
                 [=](const Inputs& in) {
                   return ag::max(ag::permute(in[0], {2, 0, 1}), axis, keepdim);
                 },
                 {separated_leaf({2, 3, 4}, rng)});
    }
  check_grad("sum_all", [](const Inputs& in) { return ag::sum_all(ag::mul(in[0], in[0])); },
             {leaf({3, 4}, rng)});
  check_grad("mean_all", [](const Inputs& in) { return ag::mean_all(ag::exp(in[0])); },
             {leaf({2, 5}, rng)});
}

TEST_CASE("gradcheck: views", "[gradcheck]") {
  Rng rng(44);
  // Each view is followed by a product with a fixed tensor so its layout matters.
  Tensor w = naive::random({3, 2, 4}, rng);
  check_grad("reshape",
             [&](const Inputs& in) {
               return ag::mul(ag::reshape(in[0], {3, 2, 4}), w);
             },
             {leaf({6, 4}, rng)});
  check_grad("reshape of transpose",
             [&](const Inputs& in) {
               return ag::mul(ag::reshape(ag::transpose(in[0], 0, 1), {3, 2, 4}), w);
             },
             {leaf({8, 3}, rng)});
  check_grad("transpose", [&](const Inputs& in) { return ag::mul(ag::transpose(in[0], 0, 2), w); },
             {leaf({4, 2, 3}, rng)});
  check_grad("permute",
             [&](const Inputs& in) {
               return ag::mul(ag::permute(in[0], {1, 2, 0}), w);
             },
             {leaf({4, 3, 2}, rng)});
  check_grad("slice", [&](const Inputs& in) { return ag::mul(ag::slice(in[0], 1, 1, 3), w); },
             {leaf({3, 5, 4}, rng)});
  check_grad(
      "slice of slice",
      [&](const Inputs& in) { return ag::mul(ag::slice(ag::slice(in[0], -1, 2, 6), 0, 1, 4), w); },
      {leaf({5, 2, 7}, rng)});
}

TEST_CASE("gradcheck: matmul", "[gradcheck]") {
  Rng rng(45);
  auto mm = [](const Inputs& in) { return ag::matmul(in[0], in[1]); };
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{3, 4}, {4, 2}},    {{2, 3, 4}, {2, 4, 5}},    {{2, 3, 4}, {4, 5}},
      {{3, 4}, {2, 4, 5}}, {{2, 1, 3, 4}, {3, 4, 2}}, {{1, 4}, {4, 1}}};
  for (auto [sa, sb] : pairs)
    check_grad("matmul " + shape_to_string(sa) + " " + shape_to_string(sb), mm,
               {leaf(sa, rng), leaf(sb, rng)});
  check_grad("matmul of transposed views",
             [](const Inputs& in) {
               return ag::matmul(ag::transpose(in[0], 1, 2), ag::transpose(in[1], 0, 1));
             },
             {leaf({2, 4, 3}, rng), leaf({5, 4}, rng)});
}

TEST_CASE("gradcheck: linear in both layouts, bias and frozen weight", "[gradcheck]") {
  Rng rng(46);
  for (bool in_out_layout : {true, false})
    for (bool with_bias : {true, false}) {
      Tensor x = leaf({2, 3, 4}, rng);
      Tensor w = leaf(in_out_layout ? Shape{4, 5} : Shape{5, 4}, rng);
      Tensor b = with_bias ? leaf({5}, rng) : Tensor();
      auto fn = [=](const Inputs& in) { return ag::linear(in[0], in[1], in[2], in_out_layout); };
      std::string tag =
          std::string(in_out_layout ? " [in,out]" : " [out,in]") + (with_bias ? " bias" : "");
      check_grad("linear" + tag, fn, {x, w, b});
      // Frozen weight: checked inputs still pass and the weight never gets a gradient.
      w.set_requires_grad(false);
      w.zero_grad();
      GradCheckResult r = check_grad("linear frozen weight" + tag, fn, {x, w, b});
      CHECK_FALSE(w.grad().defined());
      CHECK(r.worst_error[1] == 0.0);
    }
}

TEST_CASE("gradcheck: softmax, layernorm, embedding, losses, dropout", "[gradcheck]") {
  Rng rng(47);
  for (bool causal : {false, true})
    for (Shape shape : {Shape{3, 5}, Shape{2, 4, 4}, Shape{2, 2, 5}}) {
      check_grad("softmax " + shape_to_string(shape) + (causal ? " causal" : ""),
                 [causal](const Inputs& in) { return ag::softmax(in[0], causal); },
                 {leaf(shape, rng, -2.0f, 2.0f)});
    }
  check_grad("layernorm x, gamma, beta",
             [](const Inputs& in) { return ag::layernorm(in[0], in[1], in[2], 1e-5f); },
             {leaf({2, 3, 6}, rng, -2.0f, 2.0f), leaf({6}, rng, 0.5f, 1.5f), leaf({6}, rng)});
  check_grad("layernorm of transpose",
             [](const Inputs& in) {
               return ag::layernorm(ag::transpose(in[0], 0, 1), in[1], in[2], 1e-5f);
             },
             {leaf({3, 5}, rng, -2.0f, 2.0f), leaf({3}, rng, 0.5f, 1.5f), leaf({3}, rng)});
  check_grad("embedding with repeated ids",
             [](const Inputs& in) {
               return ag::embedding(in[0], {1, 3, 1, 1, 0, 4}, {2, 3});
             },
             {leaf({6, 3}, rng)});
  check_grad("cross_entropy with ignored rows",
             [](const Inputs& in) {
               return ag::cross_entropy(in[0], {1, -100, 4, 0, -100});
             },
             {leaf({5, 6}, rng, -2.0f, 2.0f)});
  check_grad("cross_entropy of permuted logits",
             [](const Inputs& in) {
               return ag::cross_entropy(ag::transpose(in[0], 0, 1), {2, 1, 3}, 1);
             },
             {leaf({4, 3}, rng, -2.0f, 2.0f)});
  // A fresh generator per evaluation keeps the mask identical across finite differences.
  check_grad("dropout",
             [](const Inputs& in) {
               Rng r(7);
               return ag::dropout(in[0], 0.3f, r);
             },
             {leaf({4, 6}, rng)});
}

TEST_CASE("gradcheck: fused attention and lm_head_loss", "[gradcheck]") {
  Rng rng(48);
  for (int64_t heads : {1, 2, 4})
    check_grad("attention heads " + std::to_string(heads),
               [heads](const Inputs& in) { return ag::attention(in[0], heads); },
               {leaf({2, 4, 3 * 8}, rng)});
  check_grad("lm_head_loss with ignored targets",
             [](const Inputs& in) {
               return ag::lm_head_loss(in[0], in[1], {3, -100, 0, 6, -100, 2});
             },
             {leaf({2, 3, 4}, rng), leaf({7, 4}, rng)});
  check_grad("lm_head_loss custom ignore",
             [](const Inputs& in) {
               return ag::lm_head_loss(in[0], in[1], {5, 5, 1, 0}, 5);
             },
             {leaf({4, 3}, rng), leaf({6, 3}, rng)});
}

TEST_CASE("gradcheck: composites", "[gradcheck]") {
  Rng rng(49);
  check_grad(
      "MLP linear-gelu-linear-cross_entropy",
      [](const Inputs& in) {
        Tensor h = ag::gelu(ag::linear(in[0], in[1], in[2], true));
        return ag::cross_entropy(ag::linear(h, in[3], in[4], false), {0, 2, -100, 1});
      },
      {leaf({4, 5}, rng), leaf({5, 6}, rng), leaf({6}, rng), leaf({3, 6}, rng), leaf({3}, rng)});
  for (int64_t heads : {1, 2})
    check_grad("reference attention heads " + std::to_string(heads),
               [heads](const Inputs& in) { return reference::attention(in[0], heads); },
               {leaf({2, 5, 3 * 4}, rng)});
  // Two new queries against five keys, as in cached decoding.
  check_grad("reference attention of 2 queries on 5 keys",
             [](const Inputs& in) { return reference::attention(in[0], in[1], in[2], 2); },
             {leaf({2, 2, 4}, rng), leaf({2, 5, 4}, rng), leaf({2, 5, 4}, rng)});
  check_grad("reference lm_head_loss with ignored targets",
             [](const Inputs& in) {
               return reference::lm_head_loss(in[0], in[1], {3, -100, 0, 6, -100, 2});
             },
             {leaf({2, 3, 4}, rng), leaf({7, 4}, rng)});
}

TEST_CASE("fused attention equals the reference ops in forward and gradients",
          "[gradcheck][attention]") {
  Rng rng(50);
  const int64_t b = 2, c = 8;
  for (auto [t, heads] : {std::pair<int64_t, int64_t>{5, 1}, {5, 2}, {70, 2}}) {
    INFO("T " << t << " heads " << heads);
    Tensor fused_in = leaf({b, t, 3 * c}, rng, -2.0f, 2.0f);
    Tensor ref_in = fused_in.clone().set_requires_grad(true);
    Tensor probe = naive::random({b, t, c}, rng);
    Tensor fused = ag::attention(fused_in, heads);
    Tensor ref = reference::attention(ref_in, heads);
    CHECK(naive::err(ref, fused) < 1e-5);
    backward(ag::sum_all(ag::mul(fused, probe)));
    backward(ag::sum_all(ag::mul(ref, probe)));
    CHECK(naive::rel_err(ref_in.grad(), fused_in.grad()) < 1e-5);
    // Cached decoding: the last 3 positions' queries against all keys.
    NoGradGuard no_grad;
    Tensor q = fused_in.slice(2, 0, c).slice(1, t - 3, t);
    Tensor k = fused_in.slice(2, c, 2 * c), v = fused_in.slice(2, 2 * c, 3 * c);
    Tensor cached = ops::attention_cached(q, k, v, heads);
    CHECK(naive::err(cached, fused.slice(1, t - 3, t)) < 1e-5);
    CHECK(naive::err(reference::attention(q, k, v, heads), cached) < 1e-5);
  }
}

TEST_CASE("fused lm_head_loss equals the reference ops in loss and gradients",
          "[gradcheck][lm_head]") {
  Rng rng(52);
  // 300 rows: two of the fused kernel's 256-row chunks.
  Tensor hidden = leaf({3, 100, 8}, rng), weight = leaf({11, 8}, rng);
  std::vector<int32_t> targets(300);
  for (size_t i = 0; i < targets.size(); ++i) targets[i] = i % 7 == 0 ? -100 : int32_t(i % 11);
  auto grads = [&](Tensor loss) {
    hidden.zero_grad();
    weight.zero_grad();
    backward(loss);
    return std::pair{loss.item(), std::pair{hidden.grad(), weight.grad()}};
  };
  auto [fused_loss, fused] = grads(ag::lm_head_loss(hidden, weight, targets));
  auto [ref_loss, ref] = grads(reference::lm_head_loss(hidden, weight, targets));
  CHECK(ref_loss == Approx(fused_loss).epsilon(1e-6));
  CHECK(naive::rel_err(ref.first, fused.first) < 1e-5);
  CHECK(naive::rel_err(ref.second, fused.second) < 1e-5);
}

TEST_CASE("gradcheck catches a wrong backward", "[gradcheck]") {
  Rng rng(51);
  Tensor x = leaf({3, 4}, rng, 0.5f, 1.5f);
  auto with = [](float factor) {
    return [factor](const Inputs& in) { return square(in[0], factor); };
  };
  CHECK(gradcheck(with(1.0f), {x}).worst < 1e-3);  // the planted op itself is right
  CHECK_FALSE(gradcheck(with(1.1f), {x}).passed);
  // ×1.1 gives relative error 0.1/1.1 ≈ 0.09; a sign flip gives 2.
  CHECK(gradcheck(with(1.1f), {x}).worst > 0.08);
  CHECK(gradcheck(with(-1.0f), {x}).worst > 1.9);
  // A backward that forgets its second input's gradient.
  auto forgetful = [](const Inputs& in) {
    Tensor a = in[0], b = in[1];
    return record(ops::mul(a, b), "forgetful", {a, b},
                  [b](const Tensor& g, InputGrads& d) { d[0] = ops::mul(g, b); });
  };
  GradCheckResult r = gradcheck(forgetful, {leaf({4}, rng), leaf({4}, rng, 0.5f, 1.5f)});
  CHECK(r.worst_error[0] < 1e-3);
  CHECK(r.worst_error[1] > 0.99);
  // A transposed-gradient bug that only shows on non-square inputs.
  auto transposed = [](const Inputs& in) {
    Tensor a = in[0];
    return record(ops::scale(a.transpose(0, 1).contiguous(), 2.0f), "bad_transpose", {a},
                  [](const Tensor& g, InputGrads& d) {
                    d[0] = ops::scale(g.contiguous().view({g.size(1), g.size(0)}), 2.0f);
                  });
  };
  CHECK(gradcheck(transposed, {leaf({2, 3}, rng)}).worst > 0.1);
}
