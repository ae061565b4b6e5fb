// Weights kept in bf16 for generation (tensor/bf16_matrix.h): the packed values, products
// checked against a hand computation and plain loops over the same rounded weights, and greedy
// generation from the fixture model in bf16 against f32.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "experiments/bench/bench.h"
#include "gpt2/checkpoint.h"
#include "gpt2/generate.h"
#include "tensor/bf16_matrix.h"
#include "tensor/precision.h"
#include "tests/cli_runner.h"
#include "tests/fixtures.h"
#include "tests/naive.h"
#include "tests/tiny_setup.h"

using namespace ls;

TEST_CASE("a bf16 matrix holds the rounded elements of its view, in its view's order",
          "[bf16_weights]") {
  Rng rng(5);
  Tensor w = naive::random({70, 90}, rng);
  for (bool transposed : {false, true}) {
    Tensor view = transposed ? w.transpose(0, 1) : w;
    Bf16Matrix m(view);
    REQUIRE(m.rows() == view.size(0));
    REQUIRE(m.cols() == view.size(1));
    CHECK(m.bytes() == 70 * 90 * 2);
    bool all = true;
    for (int64_t r = 0; r < m.rows(); ++r)
      for (int64_t c = 0; c < m.cols(); ++c) all &= m.row(r)[c] == bf16_bits(view.at({r, c}));
    CHECK(all);
  }
}

TEST_CASE("a product with bf16 weights: a hand computation", "[bf16_weights]") {
  // W rounds to [[1, 3], [1 + 2^-7, -2]] (1 + 2^-8 is a tie, to the even 1; 1 + 3·2^-9 goes
  // up; -(2 + 2^-7) is a tie, to -2); x = (2, 1) is kept as it is. By hand, exact in float32:
  //   y0 = 2·1 + 1·3 + 0.5                  = 5.5
  //   y1 = 2·1.0078125 − 2 − 1 = 2.015625 − 3 = −0.984375
  Tensor w = Tensor::from({2, 2}, {1.00390625f, 3.0f, 1.005859375f, -2.0078125f});
  Tensor x = Tensor::from({1, 2}, {2.0f, 1.0f});
  Tensor bias = Tensor::from({2}, {0.5f, -1.0f});
  CHECK(ops::linear_bf16(x, Bf16Matrix(w), bias).to_vector() ==
        std::vector<float>{5.5f, -0.984375f});
  // Two rows go through a GEMM on the widened weights: x's second row (1, 0) picks W's first
  // column, (1 + 0.5, 1.0078125 − 1).
  Tensor x2 = Tensor::from({2, 2}, {2.0f, 1.0f, 1.0f, 0.0f});
  CHECK(ops::linear_bf16(x2, Bf16Matrix(w), bias).to_vector() ==
        std::vector<float>{5.5f, -0.984375f, 1.5f, 0.0078125f});
  // The transposed view packs Wᵀ, so the product is x·W: (2·1 + 1.0078125, 2·3 − 2).
  CHECK(ops::linear_bf16(x, Bf16Matrix(w.transpose(0, 1))).to_vector() ==
        std::vector<float>{3.0078125f, 4.0f});
}

TEST_CASE("products with bf16 weights equal plain loops over the rounded weights",
          "[bf16_weights]") {
  Rng rng(17);
  const int64_t in = 100, out = 77;  // in: three 32-lane blocks and a tail of four
  Tensor w = naive::random({out, in}, rng), bias = naive::random({out}, rng);
  Bf16Matrix packed(w);
  for (int64_t rows : {1, 5}) {
    INFO("rows " << rows);
    Tensor x = naive::random({rows, in}, rng);
    Tensor got = ops::linear_bf16(x.view({1, rows, in}), packed, bias);
    REQUIRE(got.shape() == Shape{1, rows, out});
    // In double over the rounded weights. The kernel's float32 sums of `in` products and the
    // bias lose at most (in + 1)·2^-24 of the sum of their magnitudes.
    double worst = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < out; ++j) {
        double ref = bias.at({j}), magnitude = std::abs(ref);
        for (int64_t k = 0; k < in; ++k) {
          double p = static_cast<double>(x.at({r, k})) * round_to_bf16(w.at({j, k}));
          ref += p;
          magnitude += std::abs(p);
        }
        double bound = static_cast<double>(in + 1) * std::ldexp(1.0, -24) * magnitude;
        worst = std::max(worst, std::abs(got.at({0, r, j}) - ref) / bound);
      }
    CHECK(worst <= 1.0);
    naive::Threads one(1);
    CHECK(ops::linear_bf16(x, packed, bias).to_vector() == got.to_vector());
  }
}

TEST_CASE("greedy generation from the fixture model in bf16 picks f32's tokens", "[bf16_weights]") {
  auto model = load_gpt2(test::fixture_path("model"));
  const std::vector<int32_t> prompt = {10, 20, 30, 40};
  GenerateOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 20;
  std::vector<int32_t> f32 = generate(*model, prompt, o);
  REQUIRE(f32.size() == 20);
  // Along f32's tokens, the logits of both at every step. Each weight moves by at most 2^-9 of
  // itself when rounded, so a product by at most 2^-9 of the sum of its terms' magnitudes;
  // through two blocks and the head we allow four times that of the largest logit (measured:
  // 0.011–0.017 against largest logits of 4.2–5.9, under half the allowance). A logit moving by
  // at most `tol` cannot change an argmax that leads by more than 2·tol, so bf16 must pick
  // f32's tokens up to the first step with a closer call (here none: the smallest lead is 0.14).
  KVCache f32_cache = model->new_cache(1), bf16_cache = model->new_cache(1);
  std::vector<int32_t> feed = prompt;
  size_t decided = 0;  // steps before the first close call
  bool close_call = false;
  double moved = 0.0;  // the largest change: not 0, or the bf16 weights were not used
  for (size_t i = 0; i < f32.size(); ++i) {
    INFO("step " << i);
    model->keep_bf16_weights(false);
    std::vector<float> want = model->forward_cached(feed, 1, f32_cache).to_vector();
    model->keep_bf16_weights(true);
    std::vector<float> got = model->forward_cached(feed, 1, bf16_cache).to_vector();
    double largest = 0.0, lead = std::numeric_limits<double>::infinity();
    for (size_t v = 0; v < want.size(); ++v) {
      largest = std::max(largest, static_cast<double>(std::abs(want[v])));
      if (static_cast<int32_t>(v) != f32[i]) lead = std::min(lead, double{want[f32[i]]} - want[v]);
    }
    double tol = 4.0 * std::ldexp(1.0, -9) * largest;
    double diff = test::max_abs_diff(got, want);
    CHECK(diff <= tol);
    moved = std::max(moved, diff);
    close_call |= lead <= 2.0 * tol;
    decided += !close_call;
    feed = {f32[i]};
  }
  CHECK(moved > 0.0);
  CHECK(decided == f32.size());
  std::vector<int32_t> bf16 = generate(*model, prompt, o);
  CHECK(std::vector<int32_t>(bf16.begin(), bf16.begin() + decided) ==
        std::vector<int32_t>(f32.begin(), f32.begin() + decided));
}

TEST_CASE("generate --precision bf16 runs, and another precision is refused", "[bf16_weights]") {
  test::TinySetup s("bf16_generate");
  std::string gen = "generate --model " + test::quoted(s.model()) +
                    " --prompt 'What is 1 plus' --temperature 0 --max-new-tokens 8 --precision ";
  test::CliResult bf16 = test::run_lorasum(gen + "bf16");
  INFO(bf16.err);
  CHECK(bf16.status == 0);
  CHECK_THAT(bf16.out, Catch::StartsWith("What is 1 plus"));
  test::CliResult f16 = test::run_lorasum(gen + "f16");
  CHECK(f16.status == 2);
  CHECK_THAT(f16.err, Catch::StartsWith("--precision:"));
  CHECK(f16.out.empty());
}

TEST_CASE("bench's generation counts the weight bytes a token reads in each precision",
          "[bf16_weights]") {
  // The tiny preset by hand: 4 blocks of 12·128² weights (c_attn 3·C², c_proj C², c_fc and the
  // MLP's c_proj 4·C² each) and the 2048 × 128 LM head: 1 048 576 weights, 2.1 MB in bf16 and
  // 4.2 MB in f32.
  for (Precision p : {Precision::f32, Precision::bf16}) {
    BenchOptions o;
    o.config = "tiny";
    o.only = {"generate"};
    o.steps = 1;
    o.gen_tokens = 4;
    o.precision = p;
    BenchReport r = run_bench(o);
    REQUIRE(r.figures.size() == 1);
    INFO(r.figures[0].note);
    CHECK(r.generate_tokens_per_s > 0.0);
    CHECK_THAT(r.figures[0].note,
               Catch::Contains(p == Precision::bf16 ? "bf16 weights" : "f32 weights") &&
                   Catch::Contains(p == Precision::bf16 ? "; 2.1 MB of weights a token at "
                                                        : "; 4.2 MB of weights a token at "));
  }
}
