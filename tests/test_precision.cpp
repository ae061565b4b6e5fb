// --precision bf16: rounding to bfloat16, products of rounded inputs summed in float32 (checked
// against hand computations and plain loops), and settings records that keep the precisions
// apart.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "tensor/gemm_library.h"
#include "tensor/ops.h"
#include "tensor/precision.h"
#include "tests/cli_runner.h"
#include "tests/naive.h"
#include "tests/tiny_setup.h"

using namespace ls;
using naive::Arr;

namespace {

const GemmLibrary kLibraries[] = {GemmLibrary::openblas, GemmLibrary::onednn};

// 1 + 2^-8 and friends: bf16 keeps 7 fraction bits, so near 1 its step is 2^-7.
constexpr float kTieDown = 1.00390625f;  // 1 + 2^-8: halfway, rounds to the even 1
constexpr float kTieUp = 1.01171875f;    // 1 + 3·2^-8: halfway, rounds to the even 1 + 2^-6
constexpr float kAbove = 1.005859375f;   // 1 + 3·2^-9: nearer 1 + 2^-7
constexpr float kNegTie = -2.0078125f;   // -(2 + 2^-7): halfway at 2 (step 2^-6), to -2

}  // namespace

TEST_CASE("bf16 rounding: nearest, ties to even, NaN and overflow", "[precision]") {
  CHECK(round_to_bf16(1.0f) == 1.0f);
  CHECK(round_to_bf16(kTieDown) == 1.0f);
  CHECK(round_to_bf16(kTieUp) == 1.015625f);
  CHECK(round_to_bf16(kAbove) == 1.0078125f);
  CHECK(round_to_bf16(kNegTie) == -2.0f);
  CHECK(round_to_bf16(0.1f) == 0.10009765625f);  // 0x3dcd: 0.1 = 0x3dcccccd rounds up
  CHECK(bf16_bits(1.0f) == 0x3f80);
  CHECK(bf16_bits(-2.0f) == 0xc000);
  CHECK(std::isnan(round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isinf(round_to_bf16(std::numeric_limits<float>::max())));
  CHECK(round_to_bf16(std::numeric_limits<float>::infinity()) ==
        std::numeric_limits<float>::infinity());
}

TEST_CASE("a bf16 product rounds A and B, not C, and sums in float32: a hand computation",
          "[precision]") {
  // A rounds to [[1, 1.015625, 3], [1.0078125, -2, 0.5]], B to [[1.0078125, 2], [1, -1],
  // [0.25, 1.015625]]. By hand:
  //   c00 = 1.0078125 + 1.015625 + 0.75                  = 2.7734375
  //   c01 = 2 − 1.015625 + 3.046875                        = 4.03125
  //   c10 = 1.0078125² − 2 + 0.125 = 1.01568603515625 − 1.875 = −0.85931396484375
  //   c11 = 2.015625 + 2 + 0.5078125                       = 4.5234375
  // Every partial sum is exact in float32, so the results are too. Then 0.5·AB + 1·C with
  // C = 1 + 2^-8, which a rounded C would lose.
  Tensor a = Tensor::from({2, 3}, {kTieDown, kTieUp, 3.0f, kAbove, kNegTie, 0.5f});
  Tensor b = Tensor::from({3, 2}, {kAbove, 2.0f, kTieDown, -1.0f, 0.25f, kTieUp});
  const std::vector<float> want = {2.7734375f, 4.03125f, -0.85931396484375f, 4.5234375f};
  for (GemmLibrary library : kLibraries) {
    INFO(gemm_library_name(library));
    GemmLibraryScope use(library);
    PrecisionScope bf16(Precision::bf16);
    CHECK(ops::matmul(a, b).to_vector() == want);
    // The same product through transposed operands.
    Tensor at = a.transpose(0, 1).contiguous(), bt = b.transpose(0, 1).contiguous();
    Tensor c = Tensor::full({2, 2}, kTieDown);
    ops::gemm(c, at, bt, {.trans_a = true, .trans_b = true, .alpha = 0.5f, .beta = 1.0f});
    for (int i = 0; i < 4; ++i) CHECK(c.to_vector()[i] == 0.5f * want[i] + kTieDown);
  }
  // In f32 the inputs are used as they are.
  CHECK(ops::matmul(a, b).to_vector() != want);
}

TEST_CASE("bf16 products split over threads equal plain loops over the rounded inputs",
          "[precision]") {
  Rng rng(31);
  naive::Threads threads(2);
  const int64_t k = 40;
  auto rounded = [](const Tensor& t) {
    Arr r = naive::read(t);
    for (double& v : r.v) v = round_to_bf16(static_cast<float>(v));
    return r;
  };
  for (GemmLibrary library : kLibraries)
    for (auto [m, n] : {std::pair<int64_t, int64_t>{300, 90}, {90, 300}, {1, 300}})
      for (bool ta : {false, true}) {
        INFO(gemm_library_name(library) << " m " << m << " n " << n << " ta " << ta);
        GemmLibraryScope use(library);
        PrecisionScope bf16(Precision::bf16);
        Tensor a = naive::random({ta ? k : m, ta ? m : k}, rng), b = naive::random({k, n}, rng);
        Arr ra = rounded(a);
        Tensor got = ops::matmul(ta ? a.transpose(0, 1) : a, b);
        CHECK(naive::err(got, naive::matmul(ta ? naive::transpose(ra) : ra, rounded(b))) < 1e-5);
      }
}

TEST_CASE("a bf16 adapter job never reuses an f32 folder, nor the other way round",
          "[precision][run-folders]") {
  test::TinySetup setup("precision_settings");
  std::string base = "train --model " + setup.model() + " --data " + setup.data() +
                     " --max-steps 2 --seed 1 --no-progress --resume --out ";
  std::string f32 = setup.path("f32"), bf16 = setup.path("bf16");
  REQUIRE(test::run_lorasum(base + f32).status == 0);
  test::CliResult mixed = test::run_lorasum(base + f32 + " --precision bf16");
  CHECK(mixed.status == 2);
  CHECK_THAT(mixed.err, Catch::Contains("train.precision"));
  REQUIRE(test::run_lorasum(base + bf16 + " --precision bf16").status == 0);
  test::CliResult back = test::run_lorasum(base + bf16 + " --precision f32");
  CHECK(back.status == 2);
  CHECK_THAT(back.err, Catch::Contains("train.precision"));
  CHECK(test::run_lorasum(base + bf16 + " --precision bf16").status == 0);  // same: reused
  test::CliResult bad = test::run_lorasum(base + bf16 + " --precision fp16");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains("--precision"));
}
