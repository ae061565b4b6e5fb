// Adapter geometry: delta cosines from the factors, the summary numbers, the random baseline,
// the `similarity` command's outputs and the SVG heatmap.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/plots/svg.h"
#include "lora/similarity.h"
#include "tensor/ops.h"
#include "tests/cli_runner.h"
#include "tests/fixtures.h"
#include "tests/naive.h"

using namespace ls;
namespace fs = std::filesystem;

namespace {

// ⟨ΔWx, ΔWy⟩ with both deltas formed densely in double.
double dense_inner(const LowRank& x, const LowRank& y) {
  naive::Arr dx = naive::matmul(naive::read(x.B), naive::read(x.A));
  naive::Arr dy = naive::matmul(naive::read(y.B), naive::read(y.A));
  double total = 0.0;
  for (int64_t i = 0; i < dx.numel(); ++i) total += dx.v[i] * dy.v[i];
  return total * x.scale * y.scale;
}

LowRank factors(const Shape& a_shape, std::vector<float> a, const Shape& b_shape,
                std::vector<float> b) {
  return {Tensor::from(a_shape, a), Tensor::from(b_shape, b), 1.0f};
}

}  // namespace

TEST_CASE("cos(A, A) = 1, cos(A, -A) = -1, and the factor formula equals the dense one",
          "[similarity]") {
  Rng rng(1);
  for (int trial = 0; trial < 20; ++trial) {
    int64_t out = 1 + rng.below(12), in = 1 + rng.below(12);
    LowRank x = LowRank::random(out, in, 1 + rng.below(5), rng);
    LowRank y = LowRank::random(out, in, 1 + rng.below(5), rng);
    x.scale = rng.uniform(-3.0f, 3.0f);
    y.scale = rng.uniform(0.1f, 2.0f);
    double dense = dense_inner(x, y);
    CHECK(delta_inner(x, y) == Approx(dense).epsilon(1e-9).margin(1e-12));
    CHECK(delta_cosine(x, x) == Approx(1.0).epsilon(1e-12));
    LowRank negated{x.A, ops::scale(x.B, -1.0f), x.scale};
    CHECK(delta_cosine(x, negated) == Approx(-1.0).epsilon(1e-12));
  }
  Rng r2(2);
  AdapterFactors a{"a",
                   {},
                   {{"h.0.attn.c_attn", LowRank::random(12, 4, 2, r2)},
                    {"h.0.mlp.c_proj", LowRank::random(4, 16, 2, r2)}}};
  SimilarityReport self = adapter_similarity(a, a);
  CHECK(self.rms_cosine == Approx(1.0).epsilon(1e-12));
  CHECK(self.param_cosine == Approx(1.0).epsilon(1e-12));
  CHECK(self.flat_delta_cosine == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("summary numbers on hand-made deltas", "[similarity]") {
  LowRank e1 = factors({1, 3}, {1, 0, 0}, {2, 1}, {1, 0});  // ΔW = e₁e₁ᵀ
  LowRank e2 = factors({1, 3}, {0, 1, 0}, {2, 1}, {0, 1});  // e₂e₂ᵀ
  LowRank minus_both = factors({2, 3}, {1, 0, 0, 0, 1, 0}, {2, 2}, {-1, 0, 0, -1});
  LowRank zero = factors({1, 3}, {1, 1, 1}, {2, 1}, {0, 0});
  AdapterFactors x{"x",
                   {},
                   {{"h.0.attn.c_attn", e1},
                    {"h.1.attn.c_attn", e1},
                    {"h.10.attn.c_attn", e1},
                    {"h.2.attn.c_attn", e1},
                    {"h.3.attn.c_attn", e2}}};
  AdapterFactors y{"y",
                   {},
                   {{"h.0.attn.c_attn", e1},
                    {"h.1.attn.c_attn", e2},
                    {"h.10.attn.c_attn", minus_both},
                    {"h.2.attn.c_attn", zero}}};
  SimilarityReport r = adapter_similarity(x, y);
  // Shared modules in layer order; h.3 is only in x. Cosines 1, 0, undefined (zero delta), −1/√2.
  REQUIRE(r.modules.size() == 4);
  CHECK(r.modules[0].module == "h.0.attn.c_attn");
  CHECK(r.modules[1].cosine == 0.0);
  CHECK(r.modules[2].module == "h.2.attn.c_attn");
  CHECK(std::isnan(r.modules[2].cosine));
  CHECK(r.modules[3].module == "h.10.attn.c_attn");
  CHECK(r.modules[3].cosine == Approx(-1.0 / std::sqrt(2.0)));
  CHECK(r.rms_cosine == Approx(std::sqrt((1.0 + 0.0 + 0.5) / 3.0)));
  CHECK(r.mean_abs_cosine == Approx((1.0 + 1.0 / std::sqrt(2.0)) / 3.0));
  CHECK(r.max_abs_cosine == 1.0);
  CHECK(r.max_module == "h.0.attn.c_attn");
  CHECK(r.flat_delta_cosine == Approx(0.0).margin(1e-12));  // 1 + 0 + 0 − 1
  CHECK(std::isnan(r.param_cosine));                        // h.10 has ranks 1 and 2

  AdapterFactors elsewhere{"z", {}, {{"h.5.mlp.c_fc", e1}}};
  CHECK_THROWS_WITH(adapter_similarity(x, elsewhere), Catch::Contains("no module in common"));
}

TEST_CASE("the random baseline agrees with theory and with measured random adapters",
          "[similarity]") {
  Rng rng(8);
  // Enough modules that the RMS over them is close to its expectation (theory's limit).
  auto random_adapter = [&](const std::string& name) {
    AdapterFactors f{name, {}, {}};
    for (int layer = 0; layer < 16; ++layer) {
      f.modules["h." + std::to_string(layer) + ".attn.c_attn"] = LowRank::random(64, 48, 4, rng);
      f.modules["h." + std::to_string(layer) + ".mlp.c_proj"] = LowRank::random(32, 80, 4, rng);
    }
    return f;
  };
  AdapterFactors a = random_adapter("a"), b = random_adapter("b");
  Baseline base = random_baseline(a, b, 50, 3);
  double theory = std::sqrt((1.0 / (64 * 48) + 1.0 / (32 * 80)) / 2.0);
  CHECK(base.analytic_rms == Approx(theory));
  CHECK(base.rms_mean == Approx(theory).epsilon(0.1));
  CHECK(base.rms_std > 0.0);
  CHECK(base.rms_std < base.rms_mean);
  double measured = adapter_similarity(a, b).rms_cosine;
  CHECK(measured < base.rms_mean + 5 * base.rms_std);
}

TEST_CASE("cosine_grid lays a report out as layers × module kinds", "[similarity]") {
  SimilarityReport report;
  report.modules = {{"lm_head", 0.4},
                    {"h.0.mlp.c_fc", 0.2},
                    {"h.0.attn.c_attn", 0.1},
                    {"h.10.attn.c_attn", 0.5},
                    {"h.2.attn.c_attn", 0.3}};
  CosineGrid grid = cosine_grid(report);
  CHECK(grid.layers == std::vector<std::string>{"-", "0", "2", "10"});
  CHECK(grid.kinds == std::vector<std::string>{"attn.c_attn", "lm_head", "mlp.c_fc"});
  REQUIRE(grid.cosines.size() == 4);
  auto row = [&](size_t i) { return grid.cosines[i]; };
  CHECK(std::isnan(row(0)[0]));
  CHECK(row(0)[1] == 0.4);
  CHECK(std::isnan(row(0)[2]));
  CHECK(row(1)[0] == 0.1);
  CHECK(std::isnan(row(1)[1]));
  CHECK(row(1)[2] == 0.2);
  CHECK(row(2)[0] == 0.3);
  CHECK(row(3)[0] == 0.5);
  CHECK(std::isnan(row(3)[2]));
}

TEST_CASE("lorasum similarity on the fixture adapters: text, JSON, CSV and SVG", "[similarity]") {
  std::string a = test::fixture_path("adapter-a"), b = test::fixture_path("adapter-b");
  std::string args = " --adapter " + test::quoted(a) + " --adapter " + test::quoted(b);
  std::string csv = (fs::temp_directory_path() / "lorasum_similarity.csv").string();
  std::string svg = (fs::temp_directory_path() / "lorasum_similarity.svg").string();

  test::CliResult text = test::run_lorasum("similarity" + args);
  INFO(text.err);
  REQUIRE(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("RMS cosine") && Catch::Contains("random adapters") &&
                           Catch::Contains("attn.c_attn"));

  test::CliResult js = test::run_lorasum("similarity --json --csv " + csv + " --svg " + svg + args);
  REQUIRE(js.status == 0);
  auto j = nlohmann::json::parse(js.out);
  CHECK(j["metric"] == "rms_cosine");
  auto rms = j["matrix"]["rms_cosine"];
  CHECK(rms[0][0].get<double>() == Approx(1.0).epsilon(1e-9));
  CHECK(rms[0][1] == rms[1][0]);
  CHECK(j["pairs"][0]["modules"].size() == 8);
  SimilarityReport direct = adapter_similarity(AdapterFactors::read(a), AdapterFactors::read(b));
  CHECK(rms[0][1].get<double>() == Approx(direct.rms_cosine));
  CHECK(direct.rms_cosine < 0.1);  // independently drawn adapters are nearly orthogonal

  std::string table = read_file(csv);
  CHECK(std::count(table.begin(), table.end(), '\n') == 9);  // header + 8 modules
  std::string picture = read_file(svg);
  CHECK(picture.rfind("<svg", 0) == 0);
  CHECK_THAT(picture, Catch::Contains("adapter-a vs adapter-b") && Catch::Contains(">layer<") &&
                          Catch::Contains(">module<") && Catch::Contains("linearGradient") &&
                          Catch::Contains("</svg>"));

  test::CliResult help = test::run_lorasum("similarity --help");
  CHECK_THAT(help.out,
             Catch::Contains("RMS cosine (default)") && Catch::Contains("raw A,B params"));
  test::CliResult one = test::run_lorasum("similarity --adapter " + test::quoted(a));
  CHECK(one.status == 2);
  fs::remove(csv);
  fs::remove(svg);
}

TEST_CASE("SVG heatmap: cells, labels, legend, escaping, colour and tick helpers", "[similarity]") {
  svg::Heatmap h;
  h.title = "A & <B>";
  h.x_label = "module";
  h.y_label = "layer";
  h.value_label = "cosine";
  h.columns = {"c_attn", "c_proj"};
  h.rows = {"0", "1"};
  h.values = {{0.5, -0.25}, {NAN, 0.0}};
  std::string doc = svg::heatmap(h);
  CHECK_THAT(doc, Catch::Contains("A &amp; &lt;B&gt;") && Catch::Contains(">0.5<") &&
                      Catch::Contains(">-0.25<") && Catch::Contains(">n/a<") &&
                      Catch::Contains("#dddddd") && Catch::Contains(">cosine<") &&
                      Catch::Contains("<title>layer 1, module c_proj: 0</title>"));
  CHECK(std::count(doc.begin(), doc.end(), '<') == std::count(doc.begin(), doc.end(), '>'));
  CHECK(svg::diverging_colour(0.0) == "#ffffff");
  CHECK(svg::diverging_colour(1.0) == "#b2182b");
  CHECK(svg::diverging_colour(-2.0) == "#2166ac");
  std::vector<double> ticks = svg::nice_ticks(-0.042, 0.042, 4);
  REQUIRE(ticks.size() == 5);
  CHECK(ticks[0] == Approx(-0.04));
  CHECK(ticks[2] == 0.0);
  CHECK(ticks[4] == Approx(0.04));
  CHECK(svg::format_value(0.000753) == "0.000753");
  CHECK(svg::format_value(1.0) == "1");
}
