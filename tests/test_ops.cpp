// Forward kernels (and the hand-written backward kernels) against the naive references.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "tensor/fused.h"
#include "tensor/gemm_library.h"
#include "tensor/ops.h"
#include "tensor/vmath.h"
#include "tests/naive.h"

using namespace ls;
using naive::Arr;
using naive::Layout;

namespace {

constexpr Layout kLayouts[] = {Layout::contiguous, Layout::permuted, Layout::sliced};

// Shape pairs that broadcast: equal, one-sided both ways, mutual, 0-d, size-1 and empty.
std::vector<std::pair<Shape, Shape>> broadcast_pairs(Rng& rng) {
  std::vector<std::pair<Shape, Shape>> pairs = {
      {{}, {}},      {{}, {3, 2}},           {{3, 2}, {}},        {{1}, {4}},
      {{2, 3}, {3}}, {{3}, {2, 3}},          {{3, 1, 4}, {5, 1}}, {{5, 1}, {3, 1, 4}},
      {{1, 1}, {1}}, {{2, 1, 3}, {2, 4, 1}}, {{0, 3}, {3}},       {{1, 6}, {7, 1}},
  };
  for (int i = 0; i < 8; ++i) {
    Shape s = naive::random_shape(rng, 1 + rng.below(4), 4);
    Shape t = naive::broadcastable_to(s, rng);
    if (i % 2)
      pairs.push_back({s, t});
    else
      pairs.push_back({t, s});
  }
  return pairs;
}

}  // namespace

TEST_CASE("binary elementwise ops broadcast like NumPy", "[ops]") {
  struct Op {
    const char* name;
    std::function<Tensor(const Tensor&, const Tensor&)> kernel;
    std::function<double(double, double)> reference;
  };
  const Op table[] = {
      {"add", ops::add, [](double a, double b) { return a + b; }},
      {"sub", ops::sub, [](double a, double b) { return a - b; }},
      {"mul", ops::mul, [](double a, double b) { return a * b; }},
      {"div", ops::div, [](double a, double b) { return a / b; }},
  };
  Rng rng(11);
  for (auto [sa, sb] : broadcast_pairs(rng)) {
    Tensor a = naive::random(sa, rng);
    Tensor b = naive::random(sb, rng, 0.5f, 2.0f);  // away from zero for div
    CHECK(ops::broadcast_shapes(sa, sb) == naive::broadcast(sa, sb));
    for (const Op& op : table)
      for (Layout la : kLayouts)
        for (Layout lb : kLayouts) {
          INFO(op.name << " " << shape_to_string(sa) << " with " << shape_to_string(sb));
          Tensor got = op.kernel(naive::relayout(a, la), naive::relayout(b, lb));
          CHECK(got.is_contiguous());
          CHECK(naive::err(got, naive::binary(naive::read(a), naive::read(b), op.reference)) <
                1e-6);
        }
  }
  CHECK_THROWS_AS(ops::add(Tensor::zeros({2, 3}), Tensor::zeros({2})), std::logic_error);
  CHECK_THROWS_AS(ops::broadcast_shapes({4, 1}, {3, 5, 2}), std::logic_error);
}

TEST_CASE("unary elementwise ops and gelu", "[ops]") {
  struct Op {
    const char* name;
    std::function<Tensor(const Tensor&)> kernel;
    std::function<double(double)> reference;
    float lo, hi;
  };
  const Op table[] = {
      {"exp", ops::exp, [](double x) { return std::exp(x); }, -3.0f, 3.0f},
      {"log", ops::log, [](double x) { return std::log(x); }, 0.05f, 4.0f},
      {"tanh", ops::tanh, [](double x) { return std::tanh(x); }, -3.0f, 3.0f},
      {"sqrt", ops::sqrt, [](double x) { return std::sqrt(x); }, 0.0f, 9.0f},
      {"gelu", ops::gelu, naive::gelu, -6.0f, 6.0f},
      {"scale", [](const Tensor& t) { return ops::scale(t, -2.5f); },
       [](double x) { return -2.5 * x; }, -3.0f, 3.0f},
      {"add_scalar", [](const Tensor& t) { return ops::add_scalar(t, 0.75f); },
       [](double x) { return x + 0.75; }, -3.0f, 3.0f},
  };
  Rng rng(12);
  for (Shape shape : {Shape{}, Shape{1}, Shape{7}, Shape{3, 1, 5}, Shape{2, 0, 3}, Shape{4, 6}})
    for (const Op& op : table)
      for (Layout layout : kLayouts) {
        if (shape.empty() && layout != Layout::contiguous) continue;
        INFO(op.name << " " << shape_to_string(shape));
        Tensor x = naive::random(shape, rng, op.lo, op.hi);
        Tensor got = op.kernel(naive::relayout(x, layout));
        CHECK(naive::err(got, naive::unary(naive::read(x), op.reference)) < 2e-6);
      }
  // Hand values: gelu(0) = 0, gelu(1) = 0.841192, gelu(−1) = −0.158808 for the tanh form.
  Tensor g = ops::gelu(Tensor::from({3}, {0.0f, 1.0f, -1.0f}));
  CHECK(g.to_vector()[0] == 0.0f);
  CHECK(g.to_vector()[1] == Approx(0.841192).epsilon(1e-5));
  CHECK(g.to_vector()[2] == Approx(-0.158808).epsilon(1e-5));
}

TEST_CASE("the vectorised exp and softmax match libm", "[ops]") {
  double worst = 0.0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f)
    worst = std::max(worst, std::fabs(vmath::exp(x) / std::exp(double{x}) - 1.0));
  CHECK(worst < 3e-7);                   // about 2 ulp
  CHECK(vmath::exp(-1000.0f) < 1e-37f);  // clamped, not NaN or negative
  CHECK(std::isfinite(vmath::exp(1000.0f)));
  std::vector<float> row = {1.0f, -2.0f, 30.0f, 29.5f, -100.0f};
  std::vector<float> p = row;
  float lse = vmath::softmax_inplace(p.data(), static_cast<int64_t>(p.size()));
  double total = 0.0;
  for (float v : row) total += std::exp(double{v} - 30.0);
  CHECK(lse == Approx(30.0 + std::log(total)).epsilon(1e-6));
  for (size_t i = 0; i < row.size(); ++i)
    CHECK(p[i] == Approx(std::exp(row[i] - 30.0) / total).margin(1e-7).epsilon(1e-6));
}

TEST_CASE("gelu_backward is dy times the derivative of gelu", "[ops]") {
  Rng rng(13);
  Tensor x = naive::random({5, 8}, rng, -5.0f, 5.0f);
  Tensor dy = naive::random({5, 8}, rng);
  // Central differences of the double-precision formula are exact to ~1e-10 here.
  auto slope = [](double v) { return (naive::gelu(v + 1e-5) - naive::gelu(v - 1e-5)) / 2e-5; };
  Arr want = naive::binary(naive::read(x), naive::read(dy),
                           [&](double v, double g) { return g * slope(v); });
  CHECK(naive::err(ops::gelu_backward(naive::relayout(x, Layout::permuted), dy), want) < 2e-6);
}

TEST_CASE("add_into accumulates in place", "[ops]") {
  Rng rng(14);
  Tensor dst = naive::random({3, 4}, rng), src = naive::random({3, 4}, rng);
  Arr want = naive::binary(naive::read(dst), naive::read(src), std::plus<double>());
  float* before = dst.data();
  ops::add_into(dst, naive::relayout(src, Layout::sliced));
  CHECK(dst.data() == before);
  CHECK(naive::err(dst, want) < 1e-6);
  CHECK_THROWS_AS(ops::add_into(dst, Tensor::zeros({4, 3})), std::logic_error);
}

TEST_CASE("sum, mean and max over an axis", "[ops]") {
  Rng rng(15);
  std::vector<Shape> shapes = {{1}, {5}, {1, 1}, {3, 4}, {2, 1, 3}, {2, 3, 4, 2}, {3, 0, 2}};
  for (int i = 0; i < 4; ++i) shapes.push_back(naive::random_shape(rng, 1 + rng.below(4), 5));
  for (const Shape& shape : shapes) {
    Tensor x = naive::random(shape, rng, -2.0f, 2.0f);
    Arr ref = naive::read(x);
    int64_t nd = static_cast<int64_t>(shape.size());
    for (int64_t axis = -nd; axis < nd; ++axis)
      for (bool keepdim : {false, true})
        for (Layout layout : kLayouts) {
          INFO(shape_to_string(shape) << " axis " << axis << " keepdim " << keepdim);
          Tensor in = naive::relayout(x, layout);
          CHECK(naive::err(ops::sum(in, axis, keepdim),
                           naive::reduce(ref, axis, keepdim, naive::Reduce::sum)) < 1e-6);
          if (shape[axis < 0 ? axis + nd : axis] == 0) continue;
          CHECK(naive::err(ops::mean(in, axis, keepdim),
                           naive::reduce(ref, axis, keepdim, naive::Reduce::mean)) < 1e-6);
          CHECK(naive::err(ops::max(in, axis, keepdim),
                           naive::reduce(ref, axis, keepdim, naive::Reduce::max)) == 0.0);
        }
    Arr total(Shape{});
    for (double v : ref.v) total.v[0] += v;
    CHECK(naive::err(ops::sum_all(naive::relayout(x, Layout::permuted)), total) < 1e-6);
  }
  CHECK(ops::max(Tensor::from({2, 2}, {-3, -1, -2, -5}), 1).to_vector() ==
        std::vector<float>{-1, -2});
  CHECK_THROWS_AS(ops::max(Tensor::zeros({2, 0}), 1), std::logic_error);
  CHECK_THROWS_AS(ops::sum(Tensor::zeros({2, 3}), 2), std::logic_error);
  CHECK(ops::sum_all(Tensor::scalar(4.0f)).item() == 4.0f);
}

TEST_CASE("sum_to undoes broadcasting and broadcast_to expands", "[ops]") {
  Rng rng(16);
  const std::vector<std::pair<Shape, Shape>> pairs = {{{}, {3, 2}},     {{1}, {4}},
                                                      {{3}, {2, 3}},    {{2, 1}, {2, 5}},
                                                      {{1, 1}, {3, 4}}, {{4, 1, 3}, {2, 4, 5, 3}},
                                                      {{2, 3}, {2, 3}}};
  for (auto [small, big] : pairs) {
    INFO(shape_to_string(small) << " <-> " << shape_to_string(big));
    Tensor g = naive::random(big, rng);
    CHECK(naive::err(ops::sum_to(naive::relayout(g, Layout::permuted), small),
                     naive::sum_to(naive::read(g), small)) < 1e-6);
    Tensor a = naive::random(small, rng);
    Arr want = naive::binary(naive::read(a), Arr(big), std::plus<double>());
    CHECK(naive::err(ops::broadcast_to(naive::relayout(a, Layout::sliced), big), want) == 0.0);
  }
  CHECK_THROWS_AS(ops::broadcast_to(Tensor::zeros({3}), {3, 2}), std::logic_error);
}

// Both libraries multiply on any x86-64 (oneDNN's f32 kernels need only SSE4.1).
const GemmLibrary kLibraries[] = {GemmLibrary::openblas, GemmLibrary::onednn};

TEST_CASE("gemm honours transpose flags, leading dimensions, alpha and beta", "[ops][matmul]") {
  Rng rng(17);
  const int64_t k = 4, pad = 3;
  // (1, n) and (m, 1) results go through the matrix-vector path.
  for (GemmLibrary library : kLibraries)
    for (auto [m, n] : {std::pair<int64_t, int64_t>{5, 6}, {1, 6}, {5, 1}, {1, 1}})
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (float beta : {2.0f, 0.0f}) {
            INFO(gemm_library_name(library)
                 << " m " << m << " n " << n << " ta " << ta << " tb " << tb << " beta " << beta);
            GemmLibraryScope scope(library);
            // Stored matrices with padded rows; op(A) is (m, k) and op(B) is (k, n).
            Tensor a = naive::random({ta ? k : m, (ta ? m : k) + pad}, rng);
            Tensor b = naive::random({tb ? n : k, (tb ? k : n) + pad}, rng);
            Tensor c = naive::random({m, n + pad}, rng);
            Arr rc = naive::slice_last(naive::read(c), 0, n);
            if (beta == 0.0f) c.fill(std::nanf(""));  // beta = 0 must not read C
            Arr ra = naive::slice_last(naive::read(a), 0, ta ? m : k);
            Arr rb = naive::slice_last(naive::read(b), 0, tb ? k : n);
            Arr ab = naive::matmul(ta ? naive::transpose(ra) : ra, tb ? naive::transpose(rb) : rb);
            Arr want =
                naive::binary(ab, rc, [beta](double x, double y) { return 0.5 * x + beta * y; });
            ops::gemm(ta, tb, m, n, k, 0.5f, a.data(), a.size(1), b.data(), b.size(1), beta,
                      c.data(), n + pad);
            CHECK(naive::err(c.slice(1, 0, n), want) < 1e-5);
          }
}

TEST_CASE("gemm on tensor views: alpha·op(A)·op(B) + beta·C for every transpose pair",
          "[ops][matmul]") {
  Rng rng(19);
  const int64_t m = 5, n = 6, k = 4, pad = 3;
  // Column slices of wider matrices: every row stride is larger than the view's width.
  auto view = [&](int64_t rows, int64_t cols) {
    return naive::random({rows, cols + pad}, rng).slice(1, 0, cols);
  };
  for (GemmLibrary library : kLibraries)
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (float beta : {-1.5f, 0.0f}) {
          INFO(gemm_library_name(library) << " ta " << ta << " tb " << tb << " beta " << beta);
          GemmLibraryScope scope(library);
          Tensor a = view(ta ? k : m, ta ? m : k), b = view(tb ? n : k, tb ? k : n);
          Tensor c_wide = naive::random({m, n + pad}, rng), c = c_wide.slice(1, 0, n);
          Arr ra = naive::read(a), rb = naive::read(b), rc = naive::read(c);
          Arr padding = naive::read(c_wide.slice(1, n, n + pad));
          if (beta == 0.0f) c.fill(std::nanf(""));  // beta = 0 must not read C
          Arr ab = naive::matmul(ta ? naive::transpose(ra) : ra, tb ? naive::transpose(rb) : rb);
          Arr want =
              naive::binary(ab, rc, [beta](double x, double y) { return 0.75 * x + beta * y; });
          ops::gemm(c, a, b, {.trans_a = ta, .trans_b = tb, .alpha = 0.75f, .beta = beta});
          CHECK(naive::err(c, want) < 1e-5);
          CHECK(naive::err(c_wide.slice(1, n, n + pad), padding) == 0.0);  // only the view written
        }
}

TEST_CASE("gemm on tensor views refuses shapes that do not fit and rows not of stride 1",
          "[ops][matmul]") {
  using Catch::Matchers::Contains;
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  CHECK_THROWS_WITH(ops::gemm(Tensor::zeros({2, 5}), a, b),
                    Contains("[2, 3]·[4, 5] does not fit C [2, 5]"));
  CHECK_THROWS_WITH(ops::gemm(Tensor::zeros({3, 3}), a, a, {.trans_b = true}),
                    Contains("[2, 3]·[2, 3]ᵀ does not fit C [3, 3]"));
  CHECK_NOTHROW(ops::gemm(Tensor::zeros({2, 2}), a, a, {.trans_b = true}));
  // A transposed view has columns of stride 1, not rows: transposes are flags, not strides.
  CHECK_THROWS_WITH(ops::gemm(Tensor::zeros({3, 3}), a.transpose(0, 1), a),
                    Contains("A [3, 2] needs rows of stride 1"));
  CHECK_THROWS_WITH(ops::gemm(Tensor::zeros({2, 5}), Tensor::zeros({1, 2, 4}), b),
                    Contains("A must be 2-D"));
}

TEST_CASE("matmul: 2-D, batched, broadcast batch, strided operands, edges", "[ops][matmul]") {
  Rng rng(18);
  struct Case {
    Shape a, b;
  };
  std::vector<Case> cases = {
      {{3, 4}, {4, 5}},       {{1, 4}, {4, 1}},          {{4, 1}, {1, 3}},
      {{1, 1}, {1, 1}},       {{2, 3, 4}, {2, 4, 5}},    {{2, 3, 4}, {4, 5}},
      {{4, 5}, {3, 5, 2}},    {{2, 1, 3, 4}, {5, 4, 2}}, {{1, 3, 4}, {2, 4, 2}},
      {{3, 0}, {0, 4}},       {{2, 3, 0}, {0, 2}},       {{0, 3}, {3, 2}},
      {{2, 0, 3}, {2, 3, 4}}, {{3, 4, 2}, {1, 2, 6}},
  };
  for (const Case& c : cases)
    for (Layout la : kLayouts)
      for (Layout lb : kLayouts) {
        INFO(shape_to_string(c.a) << " @ " << shape_to_string(c.b));
        Tensor a = naive::random(c.a, rng), b = naive::random(c.b, rng);
        Tensor got = ops::matmul(naive::relayout(a, la), naive::relayout(b, lb));
        CHECK(naive::err(got, naive::matmul(naive::read(a), naive::read(b))) < 1e-5);
      }
  // Transposed views, as the autograd backward passes them.
  Tensor a = naive::random({2, 6, 3}, rng), b = naive::random({2, 6, 4}, rng);
  CHECK(naive::err(ops::matmul(a.transpose(-1, -2), b),
                   naive::matmul(naive::transpose(naive::read(a)), naive::read(b))) < 1e-5);
  CHECK(naive::err(ops::matmul(b.transpose(1, 2), a.slice(2, 1, 2)),
                   naive::matmul(naive::transpose(naive::read(b)),
                                 naive::slice_last(naive::read(a), 1, 2))) < 1e-5);
  // Heads of a packed (B, T, 3C) tensor: column slices with row stride 3C, one transposed.
  Tensor qkv = naive::random({2, 5, 12}, rng);
  Tensor q = qkv.slice(2, 0, 4), k = qkv.slice(2, 4, 8);
  Arr rq = naive::slice_last(naive::read(qkv), 0, 4),
      rk = naive::slice_last(naive::read(qkv), 4, 8);
  CHECK(naive::err(ops::matmul(q, k.transpose(1, 2)), naive::matmul(rq, naive::transpose(rk))) <
        1e-5);
  CHECK_THROWS_AS(ops::matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 2})), std::logic_error);
  CHECK_THROWS_AS(ops::matmul(Tensor::zeros({3}), Tensor::zeros({3, 2})), std::logic_error);
}

TEST_CASE("large matmul split across threads matches the reference", "[ops][matmul]") {
  // Above 2^20 multiply-adds gemm splits rows (m ≥ n) or columns (n > m) across threads,
  // with transposed operands offset differently in each direction.
  Rng rng(19);
  naive::Threads threads(2);
  for (GemmLibrary library : kLibraries)
    for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{260, 70, 64}, {70, 260, 64}}) {
      GemmLibraryScope scope(library);
      Tensor a = naive::random({k, m}, rng), b = naive::random({n, k}, rng);
      Arr want = naive::matmul(naive::transpose(naive::read(a)), naive::transpose(naive::read(b)));
      INFO(gemm_library_name(library) << " m " << m << " n " << n);
      CHECK(naive::err(ops::matmul(a.transpose(0, 1), b.transpose(0, 1)), want) < 1e-5);
      CHECK(naive::err(ops::matmul(a.transpose(0, 1).contiguous(), b.transpose(0, 1).contiguous()),
                       want) < 1e-5);
    }
}

TEST_CASE("split products on views: alpha, beta and every transpose pair, both libraries",
          "[ops][matmul]") {
  // 300 × 100 × 48 is above the split threshold: blocks of rows (or, transposed, columns of
  // C), each offset into padded operands and a padded C.
  Rng rng(23);
  naive::Threads threads(2);
  const int64_t k = 48, pad = 5;
  for (GemmLibrary library : kLibraries)
    for (auto [m, n] : {std::pair<int64_t, int64_t>{300, 100}, {100, 300}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          INFO(gemm_library_name(library)
               << " m " << m << " n " << n << " ta " << ta << " tb " << tb);
          GemmLibraryScope scope(library);
          Tensor a = naive::random({ta ? k : m, (ta ? m : k) + pad}, rng).slice(1, 0, ta ? m : k);
          Tensor b = naive::random({tb ? n : k, (tb ? k : n) + pad}, rng).slice(1, 0, tb ? k : n);
          Tensor c = naive::random({m, n + pad}, rng).slice(1, 0, n);
          Arr ra = naive::read(a), rb = naive::read(b), rc = naive::read(c);
          Arr ab = naive::matmul(ta ? naive::transpose(ra) : ra, tb ? naive::transpose(rb) : rb);
          Arr want = naive::binary(ab, rc, [](double x, double y) { return 0.5 * x - 2.0 * y; });
          ops::gemm(c, a, b, {.trans_a = ta, .trans_b = tb, .alpha = 0.5f, .beta = -2.0f});
          CHECK(naive::err(c, want) < 1e-5);
        }
}

TEST_CASE("softmax, plain and causal with Tq <= Tk", "[ops]") {
  Rng rng(20);
  for (Shape shape : {Shape{1}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4, 4}, Shape{2, 2, 6},
                      Shape{1, 1}, Shape{2, 3, 3}, Shape{4, 1, 5}})
    for (bool causal : {false, true})
      for (Layout layout : kLayouts) {
        if (causal && (shape.size() < 2 || shape[shape.size() - 2] > shape.back())) continue;
        INFO(shape_to_string(shape) << " causal " << causal);
        Tensor x = naive::random(shape, rng, -4.0f, 4.0f);
        CHECK(naive::err(ops::softmax(naive::relayout(x, layout), causal),
                         naive::softmax(naive::read(x), causal)) < 1e-6);
      }
  // Large logits must not overflow.
  Tensor big = ops::softmax(Tensor::from({2}, {1000.0f, 1000.0f}));
  CHECK(big.to_vector() == std::vector<float>{0.5f, 0.5f});
  CHECK_THROWS_AS(ops::softmax(Tensor::zeros({5, 3}), true), std::logic_error);
}

TEST_CASE("softmax_backward is the softmax Jacobian-vector product", "[ops]") {
  Rng rng(21);
  Tensor x = naive::random({3, 5}, rng, -2.0f, 2.0f), dy = naive::random({3, 5}, rng);
  Arr y = naive::softmax(naive::read(x), false), g = naive::read(dy), want(y.shape);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 5; ++j)  // ∂y_j/∂x_i = y_j (δ_ij − y_i)
        want.v[r * 5 + i] += g.v[r * 5 + j] * y.v[r * 5 + j] * ((i == j) - y.v[r * 5 + i]);
  CHECK(
      naive::err(ops::softmax_backward(naive::to_tensor(y), naive::relayout(dy, Layout::permuted)),
                 want) < 1e-6);
}

TEST_CASE("layernorm forward and backward", "[ops]") {
  Rng rng(22);
  const float eps = 1e-5f;
  for (Shape shape : {Shape{1, 4}, Shape{3, 8}, Shape{2, 3, 5}, Shape{6}, Shape{2, 1}}) {
    int64_t c = shape.back();
    Tensor x = naive::random(shape, rng, -2.0f, 3.0f);
    Tensor gamma = naive::random({c}, rng, 0.5f, 1.5f), beta = naive::random({c}, rng);
    Tensor dy = naive::random(shape, rng);
    Arr rx = naive::read(x), rg = naive::read(gamma);
    for (Layout layout : kLayouts) {
      INFO(shape_to_string(shape));
      ops::LayerNormStats stats;
      Tensor xin = naive::relayout(x, layout);
      Tensor y = ops::layernorm(xin, gamma, beta, eps, &stats);
      CHECK(naive::err(y, naive::layernorm(rx, rg, naive::read(beta), eps)) < 2e-5);
      Tensor dx, dgamma, dbeta;
      ops::layernorm_backward(naive::relayout(dy, layout), xin, gamma, stats, &dx, &dgamma, &dbeta);
      naive::LayerNormGrads want = naive::layernorm_backward(naive::read(dy), rx, rg, eps);
      CHECK(naive::err(dx, want.dx) < 2e-5);
      CHECK(naive::err(dgamma, want.dgamma) < 2e-5);
      CHECK(naive::err(dbeta, want.dbeta) < 2e-5);
      Tensor dx_only;
      ops::layernorm_backward(dy, x, gamma, stats, &dx_only, nullptr, nullptr);
      CHECK(naive::same(dx_only, dx));
    }
  }
  CHECK_THROWS_AS(ops::layernorm(Tensor::zeros({2, 4}), Tensor::ones({3}), Tensor::zeros({3}), eps),
                  std::logic_error);
}

TEST_CASE("embedding gathers rows and its backward adds repeated ids", "[ops]") {
  Rng rng(23);
  Tensor w = naive::random({6, 4}, rng);
  std::vector<int32_t> ids = {3, 0, 3, 5, 3, 1};
  Shape ids_shape = {2, 3};
  CHECK(naive::err(ops::embedding(naive::relayout(w, Layout::permuted), ids, ids_shape),
                   naive::embedding(naive::read(w), ids, ids_shape)) == 0.0);
  Tensor dy = naive::random({2, 3, 4}, rng);
  Tensor dw = Tensor::full({6, 4}, 1.0f);  // backward accumulates into what is there
  ops::embedding_backward(naive::relayout(dy, Layout::sliced), ids, dw);
  Arr want(Shape{6, 4}, 1.0), rdy = naive::read(dy);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < 4; ++j) want.v[ids[i] * 4 + j] += rdy.v[i * 4 + j];
  CHECK(naive::err(dw, want) < 1e-6);
  CHECK_THROWS_AS(ops::embedding(w, {6}, {1}), std::logic_error);
  CHECK_THROWS_AS(ops::embedding(w, {-1}, {1}), std::logic_error);
}

TEST_CASE("cross_entropy with ignore_index", "[ops]") {
  Rng rng(24);
  Tensor logits = naive::random({5, 7}, rng, -3.0f, 3.0f);
  Arr rl = naive::read(logits);
  for (auto targets : std::vector<std::vector<int32_t>>{
           {0, 6, 3, 3, 1}, {-100, 2, -100, 6, 0}, {-100, -100, -100, -100, -100}}) {
    int64_t counted = -1;
    Tensor loss =
        ops::cross_entropy(naive::relayout(logits, Layout::permuted), targets, -100, &counted);
    CHECK(loss.dim() == 0);
    CHECK(counted ==
          std::count_if(targets.begin(), targets.end(), [](int32_t t) { return t >= 0; }));
    CHECK(naive::err(loss, Arr(Shape{}, naive::cross_entropy(rl, targets, -100))) < 1e-6);
    float scale = counted ? 1.0f / static_cast<float>(counted) : 0.0f;
    CHECK(naive::err(ops::cross_entropy_backward(logits, targets, -100, scale),
                     naive::cross_entropy_grad(rl, targets, -100)) < 1e-6);
  }
  // ignore_index is not tied to −100.
  CHECK(naive::err(ops::cross_entropy(logits, {1, 1, 2, 2, 4}, 2),
                   Arr(Shape{}, naive::cross_entropy(rl, {1, 1, 2, 2, 4}, 2))) < 1e-6);
  CHECK_THROWS(ops::cross_entropy(logits, {0, 1, 2, 3, 7}));
  CHECK_THROWS_AS(ops::cross_entropy(logits, {0, 1}), std::logic_error);
  // Uniform logits over V classes cost log V.
  CHECK(ops::cross_entropy(Tensor::zeros({2, 8}), {3, 5}).item() == Approx(std::log(8.0)));
}

TEST_CASE("fused attention matches a per-head loop", "[ops][attention]") {
  Rng rng(25);
  using Dims = std::tuple<int64_t, int64_t, int64_t, int64_t>;  // B, T, C, heads
  const std::vector<Dims> cases = {
      {1, 1, 4, 1}, {2, 5, 8, 2}, {1, 7, 12, 3}, {2, 4, 8, 8},
      {1, 6, 6, 1}, {1, 70, 8, 2}};  // T = 70: several query blocks, the last one partial
  for (auto [b, t, c, heads] : cases) {
    INFO("B " << b << " T " << t << " C " << c << " H " << heads);
    Tensor qkv = naive::random({b, t, 3 * c}, rng, -2.0f, 2.0f);
    Arr r = naive::read(qkv);
    Arr want = naive::attention(naive::slice_last(r, 0, c), naive::slice_last(r, c, 2 * c),
                                naive::slice_last(r, 2 * c, 3 * c), heads);
    Tensor probs;
    Tensor out = ops::attention(naive::relayout(qkv, Layout::permuted), heads, &probs);
    CHECK(naive::err(out, want) < 1e-5);
    // Each probability row sums to one over the visible keys and is zero past the diagonal.
    REQUIRE(probs.shape() == Shape{b, heads, t, t});
    Arr p = naive::read(probs);
    double worst_sum = 0.0, worst_future = 0.0;
    for (int64_t row = 0; row < b * heads * t; ++row) {
      double total = 0.0;
      for (int64_t j = 0; j < t; ++j) {
        double v = p.v[row * t + j];
        total += v;
        if (j > row % t) worst_future = std::max(worst_future, std::fabs(v));
      }
      worst_sum = std::max(worst_sum, std::fabs(total - 1.0));
    }
    CHECK(worst_sum < 1e-6);
    CHECK(worst_future == 0.0);
  }
  CHECK_THROWS_AS(ops::attention(Tensor::zeros({1, 2, 12}), 3, nullptr), std::logic_error);
}

TEST_CASE("cached attention equals the last rows of full attention", "[ops][attention]") {
  Rng rng(26);
  const int64_t b = 2, t = 6, c = 8, heads = 2;
  Tensor qkv = naive::random({b, t, 3 * c}, rng, -2.0f, 2.0f);
  Tensor full = ops::attention(qkv, heads, nullptr);
  Arr r = naive::read(qkv);
  Arr k = naive::slice_last(r, c, 2 * c), v = naive::slice_last(r, 2 * c, 3 * c);
  for (int64_t tq : {int64_t{1}, int64_t{3}, t}) {
    INFO("Tq " << tq);
    Tensor q = qkv.slice(1, t - tq, t).slice(2, 0, c);  // strided views are accepted
    Tensor out =
        ops::attention_cached(q, qkv.slice(2, c, 2 * c), qkv.slice(2, 2 * c, 3 * c), heads);
    CHECK(naive::err(out, full.slice(1, t - tq, t)) < 1e-6);
    CHECK(naive::err(out, naive::attention(naive::read(q), k, v, heads)) < 1e-5);
  }
  // Tq < Tk with keys that are not a prefix of any full run: the reference alone decides.
  Tensor q = naive::random({1, 2, c}, rng), kk = naive::random({1, 5, c}, rng);
  Tensor vv = naive::random({1, 5, c}, rng);
  CHECK(naive::err(ops::attention_cached(q, kk, vv, 4),
                   naive::attention(naive::read(q), naive::read(kk), naive::read(vv), 4)) < 1e-5);
}

TEST_CASE("lm_head_loss equals naive logits and log-softmax", "[ops][lm_head]") {
  Rng rng(27);
  naive::Threads two(2);  // chunks of 160 rows: two chunks, the last one shorter
  const int64_t n = 300, c = 16, v = 40;
  Tensor hidden = naive::random({n, c}, rng), weight = naive::random({v, c}, rng);
  std::vector<int32_t> targets(n);
  for (int64_t i = 0; i < n; ++i) targets[i] = i % 7 == 3 ? -1 : static_cast<int32_t>(rng.below(v));
  Arr rh = naive::read(hidden), rw = naive::read(weight);
  Arr logits = naive::matmul(rh, naive::transpose(rw));
  double want = naive::cross_entropy(logits, targets, -1);
  int64_t counted = std::count_if(targets.begin(), targets.end(), [](int32_t x) { return x >= 0; });

  ops::LmHeadLoss r =
      ops::lm_head_loss(naive::relayout(hidden, Layout::sliced), weight, targets, -1);
  CHECK(r.counted == counted);
  CHECK(r.loss == Approx(want).epsilon(1e-5));
  CHECK(r.total_nll == Approx(want * counted).epsilon(1e-5));

  // Backward: dhidden = G W and dweight += Gᵀ H with G = (softmax − onehot) / counted.
  Arr g = naive::cross_entropy_grad(logits, targets, -1);
  Tensor dweight = Tensor::full({v, c}, 0.5f);
  Tensor dhidden = ops::lm_head_loss_backward(hidden, naive::relayout(weight, Layout::permuted),
                                              targets, -1, 1.0f / counted, &dweight);
  CHECK(naive::err(dhidden, naive::matmul(g, rw)) < 1e-6);
  Arr dw =
      naive::binary(naive::matmul(naive::transpose(g), rh), Arr({v, c}, 0.5), std::plus<double>());
  CHECK(naive::err(dweight, dw) < 1e-6);
  CHECK(naive::same(
      ops::lm_head_loss_backward(hidden, weight, targets, -1, 1.0f / counted, nullptr), dhidden));

  // The fused forward+backward pass gives the same loss and the gradients of the mean loss.
  Tensor fused_dh, fused_dw = Tensor::full({v, c}, 0.5f);
  ops::LmHeadLoss fused = ops::lm_head_loss_with_grads(naive::relayout(hidden, Layout::sliced),
                                                       weight, targets, -1, &fused_dh, &fused_dw);
  CHECK(fused.counted == counted);
  CHECK(fused.loss == Approx(want).epsilon(1e-5));
  CHECK(naive::err(fused_dh, dhidden) < 1e-6);
  CHECK(naive::err(fused_dw, dweight) < 1e-6);
  Tensor only_dh;
  ops::lm_head_loss_with_grads(hidden, weight, targets, -1, &only_dh, nullptr);
  CHECK(naive::same(only_dh, fused_dh));  // chunks in parallel or in order: the same floats

  std::vector<int32_t> none(n, -1);
  ops::LmHeadLoss empty = ops::lm_head_loss(hidden, weight, none, -1);
  CHECK(empty.counted == 0);
  CHECK(empty.loss == 0.0f);
  targets[5] = static_cast<int32_t>(v);
  CHECK_THROWS_AS(ops::lm_head_loss(hidden, weight, targets, -1), std::logic_error);
}
