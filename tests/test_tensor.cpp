// Tensor handles and views, the seeded random number generator, and kernels giving the same
// results for any thread count.
#include <tbb/info.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "tensor/fused.h"
#include "tensor/ops.h"
#include "tensor/parallel.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tests/naive.h"

using namespace ls;

namespace {

// 0, 1, 2, ... in row-major order, so every element names its own position.
Tensor iota(const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

bool shares_storage(const Tensor& a, const Tensor& b) {
  return a.impl()->storage == b.impl()->storage;
}

}  // namespace

TEST_CASE("creation fills shape, strides and values", "[tensor]") {
  Tensor z = Tensor::zeros({2, 3, 4});
  CHECK(z.shape() == Shape{2, 3, 4});
  CHECK(z.strides() == Shape{12, 4, 1});
  CHECK(z.numel() == 24);
  CHECK(z.dim() == 3);
  CHECK(z.size(-1) == 4);
  CHECK(z.size(0) == 2);
  CHECK(z.is_contiguous());
  CHECK(z.to_vector() == std::vector<float>(24, 0.0f));
  CHECK(Tensor::ones({3}).to_vector() == std::vector<float>{1, 1, 1});
  CHECK(Tensor::full({2, 1}, 2.5f).to_vector() == std::vector<float>{2.5f, 2.5f});
  CHECK(Tensor::from({2, 2}, {1, 2, 3, 4}).at({1, 0}) == 3.0f);
  CHECK_THROWS_AS(Tensor::from({2, 2}, {1, 2, 3}), std::logic_error);
  CHECK_THROWS_AS(z.size(3), std::logic_error);
  CHECK(z.shape_str() == "[2, 3, 4]");
  // 64-byte alignment is promised to the vectorised kernels.
  CHECK(reinterpret_cast<uintptr_t>(z.data()) % 64 == 0);

  Tensor s = Tensor::scalar(7.0f);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 7.0f);
  CHECK(s.at({}) == 7.0f);
  CHECK_THROWS_AS(z.item(), std::logic_error);

  Tensor e = Tensor::empty({0, 5});
  CHECK(e.numel() == 0);
  CHECK(e.to_vector().empty());
}

TEST_CASE("at() addresses elements through strides and checks bounds", "[tensor]") {
  Tensor t = iota({2, 3, 4});
  CHECK(t.at({1, 2, 3}) == 23.0f);
  CHECK(t.at({0, 1, 2}) == 6.0f);
  t.at({1, 0, 0}) = -1.0f;
  CHECK(t.data()[12] == -1.0f);
  CHECK_THROWS_AS(t.at({2, 0, 0}), std::logic_error);
  CHECK_THROWS_AS(t.at({0, 0}), std::logic_error);
  // Through a transposed view, (i, j, k) reads element (k, j, i) of the base.
  Tensor v = t.transpose(0, 2);
  CHECK(v.at({3, 2, 1}) == 23.0f);
  CHECK(v.at({2, 1, 0}) == 6.0f);
}

TEST_CASE("view infers -1, shares storage and needs contiguity", "[tensor]") {
  Tensor t = iota({2, 3, 4});
  Tensor v = t.view({-1, 4});
  CHECK(v.shape() == Shape{6, 4});
  CHECK(t.view({4, -1}).shape() == Shape{4, 6});
  CHECK(t.view({-1}).shape() == Shape{24});
  CHECK(t.view({2, 1, -1, 3}).shape() == Shape{2, 1, 4, 3});
  CHECK(Tensor::empty({0, 4}).view({-1, 2}).shape() == Shape{0, 2});
  CHECK(shares_storage(v, t));
  v.at({5, 3}) = 100.0f;
  CHECK(t.at({1, 2, 3}) == 100.0f);
  CHECK_THROWS_AS(t.view({5, -1}), std::logic_error);
  CHECK_THROWS_AS(t.view({-1, -1}), std::logic_error);
  CHECK_THROWS_AS(t.view({7, 4}), std::logic_error);
  CHECK_THROWS_AS(t.transpose(0, 1).view({24}), std::logic_error);
  // A scalar views as one element and back.
  Tensor s = Tensor::scalar(3.0f);
  CHECK(s.view({1, 1}).at({0, 0}) == 3.0f);
  CHECK(s.view({1}).view({}).item() == 3.0f);
}

TEST_CASE("transpose and permute swap strides and share storage", "[tensor]") {
  Tensor t = iota({2, 3, 4});
  Tensor tr = t.transpose(-1, 0);
  CHECK(tr.shape() == Shape{4, 3, 2});
  CHECK(tr.strides() == Shape{1, 4, 12});
  CHECK_FALSE(tr.is_contiguous());
  CHECK(shares_storage(tr, t));

  Tensor p = t.permute({1, 2, 0});
  CHECK(p.shape() == Shape{3, 4, 2});
  CHECK(p.strides() == Shape{4, 1, 12});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t k = 0; k < 2; ++k)
        CHECK(p.at({i, j, k}) == static_cast<float>(k * 12 + i * 4 + j));
  p.at({2, 3, 1}) = -5.0f;
  CHECK(t.at({1, 2, 3}) == -5.0f);
  CHECK_THROWS_AS(t.permute({0, 0, 1}), std::logic_error);
  CHECK_THROWS_AS(t.permute({0, 1}), std::logic_error);
  // Swapping a size-1 axis keeps the memory order, so the view is still contiguous.
  CHECK(iota({1, 5}).transpose(0, 1).is_contiguous());
}

TEST_CASE("slice offsets into shared storage", "[tensor]") {
  Tensor t = iota({4, 5});
  Tensor rows = t.slice(0, 1, 3);
  CHECK(rows.shape() == Shape{2, 5});
  CHECK(rows.is_contiguous());
  CHECK(rows.at({0, 0}) == 5.0f);
  CHECK(rows.data() == t.data() + 5);
  Tensor cols = t.slice(-1, 2, 4);
  CHECK(cols.shape() == Shape{4, 2});
  CHECK(cols.strides() == Shape{5, 1});
  CHECK_FALSE(cols.is_contiguous());
  CHECK(cols.to_vector() == std::vector<float>{2, 3, 7, 8, 12, 13, 17, 18});
  cols.at({3, 1}) = 0.5f;
  CHECK(t.at({3, 3}) == 0.5f);
  CHECK(t.slice(1, 2, 2).numel() == 0);
  CHECK_THROWS_AS(t.slice(0, 3, 5), std::logic_error);
  CHECK_THROWS_AS(t.slice(0, 2, 1), std::logic_error);
  // A slice of a transposed view composes offsets and strides.
  Tensor st = t.transpose(0, 1).slice(0, 1, 3).slice(1, 2, 4);
  CHECK(st.to_vector() == std::vector<float>{11, 16, 12, 17});
}

TEST_CASE("unsqueeze inserts a size-1 axis anywhere", "[tensor]") {
  Tensor t = iota({3, 4});
  CHECK(t.unsqueeze(0).shape() == Shape{1, 3, 4});
  CHECK(t.unsqueeze(1).shape() == Shape{3, 1, 4});
  CHECK(t.unsqueeze(2).shape() == Shape{3, 4, 1});
  CHECK(t.unsqueeze(-1).shape() == Shape{3, 4, 1});
  CHECK(t.unsqueeze(-3).shape() == Shape{1, 3, 4});
  // PyTorch's strides for the new axis: the span of the axes after it.
  CHECK(t.unsqueeze(0).strides() == Shape{12, 4, 1});
  CHECK(t.unsqueeze(1).strides() == Shape{4, 4, 1});
  CHECK(t.unsqueeze(2).strides() == Shape{4, 1, 1});
  CHECK_THROWS_AS(t.unsqueeze(3), std::logic_error);
  for (int64_t d = 0; d <= 2; ++d) {
    Tensor u = t.unsqueeze(d);
    CHECK(shares_storage(u, t));
    CHECK(u.is_contiguous());
    CHECK(u.to_vector() == t.to_vector());
  }
  Tensor ut = t.transpose(0, 1).unsqueeze(1);
  CHECK(ut.shape() == Shape{4, 1, 3});
  CHECK(ut.at({2, 0, 1}) == t.at({1, 2}));
  CHECK(Tensor::scalar(2.0f).unsqueeze(0).shape() == Shape{1});
}

TEST_CASE("contiguous and reshape copy only when needed", "[tensor]") {
  Tensor t = iota({3, 4});
  CHECK(t.contiguous().impl() == t.impl());
  CHECK(t.reshape({2, 6}).data() == t.data());
  CHECK(t.slice(0, 1, 2).contiguous().data() == t.data() + 4);

  Tensor tr = t.transpose(0, 1);
  Tensor c = tr.contiguous();
  CHECK_FALSE(shares_storage(c, t));
  CHECK(c.is_contiguous());
  CHECK(c.strides() == Shape{3, 1});
  CHECK(c.to_vector() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  Tensor r = tr.reshape({-1});
  CHECK_FALSE(shares_storage(r, t));
  CHECK(r.to_vector() == c.to_vector());
  CHECK_THROWS_AS(t.reshape({5, -1}), std::logic_error);
}

TEST_CASE("clone, copy_from, fill and detach", "[tensor]") {
  Tensor t = iota({2, 3});
  Tensor c = t.clone();
  CHECK_FALSE(shares_storage(c, t));
  c.at({0, 0}) = 9.0f;
  CHECK(t.at({0, 0}) == 0.0f);
  CHECK(t.transpose(0, 1).clone().is_contiguous());

  // copy_from into a strided destination writes only the view's elements.
  Tensor dst = Tensor::zeros({3, 4});
  dst.slice(1, 1, 3).copy_from(t.transpose(0, 1));
  CHECK(dst.to_vector() == std::vector<float>{0, 0, 3, 0, 0, 1, 4, 0, 0, 2, 5, 0});
  CHECK_THROWS_AS(dst.copy_from(t), std::logic_error);
  dst.slice(0, 2, 3).fill(-1.0f);
  CHECK(dst.to_vector() == std::vector<float>{0, 0, 3, 0, 0, 1, 4, 0, -1, -1, -1, -1});
  dst.transpose(0, 1).slice(0, 0, 1).fill(7.0f);  // column 0 through a transposed view
  CHECK(dst.to_vector() == std::vector<float>{7, 0, 3, 0, 7, 1, 4, 0, 7, -1, -1, -1});

  t.set_requires_grad(true);
  Tensor d = t.detach();
  CHECK(shares_storage(d, t));
  CHECK_FALSE(d.requires_grad());
  CHECK(d.impl()->grad_fn == nullptr);
  CHECK(d.impl() != t.impl());
}

TEST_CASE("naive helpers read every layout the same", "[tensor]") {
  // The references read raw strides; every relayout must present the original values.
  Rng rng(5);
  for (Shape shape :
       {Shape{}, Shape{1}, Shape{4}, Shape{2, 3}, Shape{3, 1, 4}, Shape{2, 3, 2, 2}}) {
    Tensor t = naive::random(shape, rng);
    for (auto layout : {naive::Layout::permuted, naive::Layout::sliced}) {
      Tensor r = naive::relayout(t, layout);
      CHECK(r.to_vector() == t.to_vector());
      CHECK(r.shape() == t.shape());
      if (shape.size() >= 2) CHECK_FALSE(r.is_contiguous());
    }
  }
}

TEST_CASE("Rng repeats with the seed and differs across seeds", "[tensor][random]") {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next_u64();
    CHECK(x == b.next_u64());
    differs = differs || x != c.next_u64();
  }
  CHECK(differs);
  Rng d(7), e(7);
  CHECK(naive::same(rand_normal({50}, 0.0f, 1.0f, d), rand_normal({50}, 0.0f, 1.0f, e)));
  CHECK(naive::same(rand_uniform({50}, -2.0f, 3.0f, d), rand_uniform({50}, -2.0f, 3.0f, e)));
}

TEST_CASE("splitmix64 gives the published sequence from state 0", "[tensor][random]") {
  uint64_t state = 0;
  CHECK(splitmix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(splitmix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(splitmix64(state) == 0x06c45d188009454fULL);
  CHECK(state == 3 * 0x9e3779b97f4a7c15ULL);  // wraps modulo 2^64
}

TEST_CASE("derive_seed follows each rule, worked by hand", "[tensor][random]") {
  using Rule = SeedStream::Rule;
  CHECK(derive_seed(42, {Rule::Stride, 7919}, 3) == 42 + 7919 * 4);
  CHECK(derive_seed(42, {Rule::Salt, 0x5eed}) == 0x5ec7);                // 0x2a ^ 0x5eed
  CHECK(derive_seed(42, {Rule::Salt, 0x10}, 2) == (0x2aULL ^ 0x30ULL));  // 0x2a ^ 0x10·3
  CHECK(derive_seed(0, {Rule::Mix, 1}, 0) == 0xfd1c9c22a6fe9c0cULL);     // golden ^ 0x632b…
  CHECK(derive_seed(42, {Rule::Mix, 1}, 3) == 0xf07a97b3b836379bULL);    // 43·golden ^ (3 + …)
  CHECK(derive_seed(~0ULL, {Rule::Stride, 1}) == 0);                     // wraps modulo 2^64
}

TEST_CASE("Rng distributions have the right moments and ranges", "[tensor][random]") {
  Rng rng(2024);
  const int n = 100000;
  double sum = 0.0, sq = 0.0;
  for (int i = 0; i < n; ++i) {
    double x = rng.normal();
    sum += x;
    sq += x * x;
  }
  double mean = sum / n, stddev = std::sqrt(sq / n - mean * mean);
  // Standard errors are 1/√n ≈ 0.003 for the mean and ≈ 0.0022 for the std.
  CHECK(std::fabs(mean) < 0.015);
  CHECK(std::fabs(stddev - 1.0) < 0.015);

  Tensor shifted = rand_normal({n}, 3.0f, 0.5f, rng);
  naive::Arr m = naive::reduce(naive::read(shifted), 0, false, naive::Reduce::mean);
  CHECK(std::fabs(m.v[0] - 3.0) < 0.01);

  double lo = 1.0, hi = 0.0, usum = 0.0;
  for (int i = 0; i < n; ++i) {
    double u = rng.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    usum += u;
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(std::fabs(usum / n - 0.5) < 0.005);

  std::vector<int> hist(7, 0);
  for (int i = 0; i < 7000; ++i) {
    int64_t k = rng.below(7);
    REQUIRE((k >= 0 && k < 7));
    ++hist[k];
  }
  for (int h : hist) CHECK((h > 800 && h < 1200));
}

TEST_CASE("kaiming_uniform uses bound sqrt(6 / ((1 + a^2) fan_in))", "[tensor][random]") {
  struct Case {
    int64_t fan_in;
    float a;
    double bound;
  };
  // a = √5 is PyTorch's nn.Linear default and gives 1/√fan_in; a = 0 gives √(6/fan_in).
  for (Case c : {Case{64, std::sqrt(5.0f), 1.0 / 8.0}, Case{24, 0.0f, 0.5},
                 Case{100, 1.0f, std::sqrt(0.03)}}) {
    Rng rng(3);
    Tensor w = kaiming_uniform({c.fan_in, 200}, c.fan_in, c.a, rng);
    auto v = naive::read(w).v;
    double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    CHECK(hi <= c.bound);
    CHECK(lo >= -c.bound);
    // With thousands of draws the extremes come within 1% of the bound.
    CHECK(hi > 0.99 * c.bound);
    CHECK(lo < -0.99 * c.bound);
  }
}

TEST_CASE("kernel results do not depend on the thread count", "[tensor][threads]") {
  Rng rng(28);
  Tensor a = naive::random({4, 96, 80}, rng), b = naive::random({80, 160}, rng);
  Tensor bt = naive::random({4, 160, 80}, rng);
  Tensor x = naive::random({512, 48}, rng, -2.0f, 2.0f);
  Tensor gamma = naive::random({48}, rng), beta = naive::random({48}, rng);
  Tensor scores = naive::random({4, 2, 48, 48}, rng, -3.0f, 3.0f);
  Tensor hidden = naive::random({200, 48}, rng), weight = naive::random({300, 48}, rng);
  std::vector<int32_t> targets(200);
  for (int32_t& t : targets) t = static_cast<int32_t>(rng.below(300));
  Tensor qkv = naive::random({2, 48, 3 * 32}, rng);

  // Row and elementwise kernels must agree bit for bit; GEMM blocking may round differently.
  struct Run {
    std::vector<Tensor> exact, gemm;
  };
  auto run = [&](int threads) {
    naive::Threads guard(threads);
    REQUIRE(num_threads() == threads);
    Run r;
    ops::LayerNormStats stats;
    Tensor ln = ops::layernorm(x, gamma, beta, 1e-5f, &stats);
    Tensor dx, dgamma, dbeta;
    ops::layernorm_backward(x, x, gamma, stats, &dx, &dgamma, &dbeta);
    r.exact = {ln,
               dx,
               dgamma,
               dbeta,
               ops::softmax(scores, false),
               ops::softmax(scores, true),
               ops::sum(x, 0),
               ops::gelu(x),
               ops::cross_entropy(hidden, std::vector<int32_t>(200, 7))};
    Tensor dweight = Tensor::zeros(weight.shape());
    Tensor dhidden = ops::lm_head_loss_backward(hidden, weight, targets, -100, 0.01f, &dweight);
    r.gemm = {ops::matmul(a, b),
              ops::matmul(a, bt.transpose(1, 2)),
              Tensor::scalar(ops::lm_head_loss(hidden, weight, targets, -100).loss),
              dhidden,
              dweight,
              ops::attention(qkv, 4, nullptr)};
    return r;
  };
  Run one = run(1), two = run(2);
  for (size_t i = 0; i < one.exact.size(); ++i) {
    INFO("exact result " << i);
    CHECK(naive::same(one.exact[i], two.exact[i]));
  }
  for (size_t i = 0; i < one.gemm.size(); ++i) {
    INFO("gemm result " << i);
    naive::Arr ref = naive::read(one.gemm[i]);
    double largest = 1e-30;
    for (double v : ref.v) largest = std::max(largest, std::fabs(v));
    naive::Arr diff = naive::binary(ref, naive::read(two.gemm[i]), std::minus<double>());
    double worst = 0.0;
    for (double d : diff.v) worst = std::max(worst, std::fabs(d));
    CHECK(worst / largest < 1e-5);
  }
  CHECK(num_threads() == tbb::info::default_concurrency());  // the guard restored the default
}
