// The study's compositions table and ξ (reproduce at smoke size), the predictor study over that
// run, and the statistics and plot helpers they use, on hand-computed cases.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/plots/grid.h"
#include "experiments/study/correlation.h"
#include "tensor/io/file_io.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

}  // namespace

TEST_CASE("Pearson, Spearman with ties, and bootstrap intervals on hand-made samples",
          "[predictors]") {
  // x = 1..4, y = 2, 1, 4, 3: Σdxdy = 3, Σdx² = Σdy² = 5, so r = 0.6.
  CHECK(pearson({1, 2, 3, 4}, {2, 1, 4, 3}) == Approx(0.6));
  CHECK(ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  // Monotone but not linear: ρ = 1 while r < 1.
  CHECK(spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == Approx(1.0));
  CHECK(pearson({1, 2, 3, 4}, {1, 8, 27, 64}) < 0.99);
  CHECK(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8}, y = {2, 4, 6, 8, 10, 12, 14, 16};
  Estimate line = bootstrap(pearson, x, y, 200, 3);
  CHECK(line.value == Approx(1.0));
  CHECK(line.lo == Approx(1.0));
  CHECK(line.hi == Approx(1.0));
  std::vector<double> noisy = {3, 1, 4, 1, 5, 9, 2, 6};
  Estimate e = bootstrap(spearman, x, noisy, 500, 4);
  CHECK(e.lo <= e.value);
  CHECK(e.value <= e.hi);
  CHECK(e.hi - e.lo > 0.1);
  Estimate again = bootstrap(spearman, x, noisy, 500, 4);
  CHECK(again.lo == e.lo);  // seeded
}

TEST_CASE("svg grid places each chart in its cell with its own viewBox", "[predictors]") {
  std::string a =
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="720" height="480" viewBox="0 0 720 480">
<rect width="5" height="5"/></svg>
)";
  std::string g = svg::grid({a, a, a}, 2, 360, 240);
  CHECK_THAT(g, Catch::StartsWith("<svg xmlns") &&
                    Catch::Contains(R"(width="720" height="480" viewBox="0 0 720 480")") &&
                    Catch::Contains(
                        R"(<svg x="360" y="0" width="360" height="240" viewBox="0 0 720 480">)") &&
                    Catch::Contains(R"(<svg x="0" y="240")"));
  size_t opened = 0;
  for (size_t at = g.find("<svg"); at != std::string::npos; at = g.find("<svg", at + 1)) ++opened;
  size_t closed = 0;
  for (size_t at = g.find("</svg>"); at != std::string::npos; at = g.find("</svg>", at + 1))
    ++closed;
  CHECK(opened == 4);
  CHECK(closed == 4);
}

TEST_CASE("reproduce adds compositions and ξ, predictors reads the run back", "[reproduce]") {
  std::string dir = test::fresh_dir("compositions_smoke");
  test::CliResult r =
      test::run_lorasum("reproduce --preset smoke --seeds 1 --no-progress --out " + dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("### Compositions") && Catch::Contains("searched weights") &&
                        Catch::Contains("### Non-additivity"));
  json j = json::parse(read_file(dir + "/results.json"));
  const json& c = j["compositions"];
  REQUIRE(c["combinations"].size() == 4);  // three pairs and the triple
  for (size_t i = 0; i < 3; ++i) {
    const json& pair = c["combinations"][i];
    CHECK(pair["domains"] == j["pairs"][i]["domains"]);
    // The naive sum's row is the study's own figure; every composition is scored alike.
    CHECK(pair["change_pct"]["sum"]["mean"].get<double>() ==
          Approx(j["pairs"][i]["change_pct"].get<double>()));
    for (const char* m : {"searched", "ties", "dare", "svd"}) {
      double merged = pair["ppl_merged"]["mean"], ppl = pair["ppl"][m]["mean"];
      CHECK(pair["change_pct"][m]["mean"].get<double>() == Approx((ppl - merged) / merged * 100));
    }
    CHECK(pair["xi_mean"]["mean"].get<double>() > 0);
    CHECK(pair["relative_delta_norm"].size() == 2);
  }
  CHECK(c["combinations"][3]["xi"].size() == 3);
  CHECK(lines(read_file(dir + "/compositions.csv")) == 1 + 4 * 5);
  CHECK(lines(read_file(dir + "/nonadditivity.csv")) == 1 + 3 * 2 + 3);

  std::string out = dir + "/predictors";
  test::CliResult p = test::run_lorasum("predictors --runs " + dir + " --out " + out);
  INFO(p.err);
  REQUIRE(p.status == 0);
  CHECK_THAT(p.out, Catch::Contains("| rms_cos | all | 3 |"));
  json q = json::parse(read_file(out + "/predictors.json"));
  REQUIRE(q["rows"].size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const json& row = q["rows"][i];
    CHECK(row["change_pct"].get<double>() == Approx(j["pairs"][i]["change_pct"].get<double>()));
    CHECK(row["values"]["rms_cos"].get<double>() == Approx(j["pairs"][i]["rms_cos"].get<double>()));
    // ξ of the same adapters on the same test examples, as reproduce measured it.
    CHECK(row["values"]["xi"].get<double>() ==
          Approx(c["combinations"][i]["xi_mean"]["mean"].get<double>()).epsilon(1e-3));
  }
  CHECK(lines(read_file(out + "/predictors.csv")) == 4);
  CHECK_THAT(read_file(out + "/plots/predictors.svg"), Catch::Contains("gradient_cos"));
  CHECK(test::run_lorasum("predictors --runs " + out + " --out " + out + "/x").status == 2);

  // Fewer compositions: the same adapters score the same, the rest is left out, ξ stays.
  fs::remove_all(out);
  test::CliResult ties = test::run_lorasum(
      "reproduce --preset smoke --seeds 1 --no-progress "
      "--compositions ties --out " +
      dir);
  INFO(ties.err);
  REQUIRE(ties.status == 0);
  CHECK_THAT(ties.out, Catch::Contains("| combination | naive sum | TIES (density 0.2) |\n") &&
                           !Catch::Contains("Searched weights:"));
  json again = json::parse(read_file(dir + "/results.json"));
  const json& t = again["compositions"];
  CHECK(t["methods"] == json({"sum", "ties"}));
  for (size_t i = 0; i < 4; ++i) {
    CHECK(t["combinations"][i]["change_pct"]["ties"] == c["combinations"][i]["change_pct"]["ties"]);
    CHECK(t["combinations"][i]["xi_mean"] == c["combinations"][i]["xi_mean"]);
    CHECK_FALSE(t["combinations"][i]["change_pct"].contains("svd"));
  }
  CHECK(lines(read_file(dir + "/compositions.csv")) == 1 + 4 * 2);
  CHECK_THAT(read_file(dir + "/nonadditivity.csv"), Catch::Contains(",\n"));  // no weights
  for (const char* bad : {"ties,foo", "foo,ties", "ties,,svd", "ties,ties", "ties,", "sum", ""}) {
    test::CliResult b = test::run_lorasum(std::string("reproduce --preset smoke --compositions '") +
                                          bad + "' --out " + dir);
    CHECK(b.status == 2);
    CHECK_THAT(b.err, Catch::Contains("--compositions") && Catch::Contains("searched, ties"));
  }
  fs::remove_all(dir);
}

TEST_CASE("predictors finds a --model run's base model by the folder and identity it recorded",
          "[reproduce]") {
  std::string dir = test::fresh_dir("predictors_model"), own = dir + "/own", given = dir + "/given";
  std::string smoke = "reproduce --preset smoke --seeds 1 --compositions none --no-progress ";
  REQUIRE(test::run_lorasum(smoke + "--out " + own).status == 0);
  // Nothing scored beside the naive sum: ξ's table, no compositions table repeating the sums.
  for (const std::string& file : {own + "/results.md", own + "/report.html"})
    CHECK_THAT(read_file(file), !Catch::Contains("Compositions") &&
                                    Catch::Contains("Non-additivity of the naive sum"));
  test::CliResult r = test::run_lorasum(smoke + "--model " + own + "/base-model --out " + given);
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE_FALSE(fs::exists(given + "/base-model"));
  json recorded = json::parse(read_file(given + "/results.json"))["base_model"];
  CHECK(recorded["folder"] == fs::absolute(own + "/base-model").lexically_normal().string());

  // Same base, seed and data: the same adapters, so the same rows as the run that owns the model.
  auto rows = [&](const std::string& run, const std::string& flags) {
    test::CliResult p =
        test::run_lorasum("predictors --runs " + run + " --out " + dir + "/p " + flags);
    INFO(p.err);
    REQUIRE(p.status == 0);
    return json::parse(read_file(dir + "/p/predictors.json"))["rows"];
  };
  json mine = rows(own, ""), theirs = rows(given, "");
  test::CliResult quiet =
      test::run_lorasum("predictors --no-progress --runs " + own + " --out " + dir + "/p");
  CHECK(quiet.err.empty());
  // Without a terminal the bar prints a line per row here (each is over a tenth of the work).
  test::CliResult shown = test::run_lorasum("predictors --runs " + own + " --out " + dir + "/p");
  CHECK_THAT(shown.err, Catch::Contains("predictors: pairs [") &&
                            Catch::Contains("] 3/3 medicine+finance") &&
                            Catch::Contains("done: 3 rows"));
  REQUIRE(theirs.size() == 3);
  for (size_t i = 0; i < 3; ++i)
    CHECK(theirs[i]["values"]["xi"].get<double>() == Approx(mine[i]["values"]["xi"].get<double>()));

  // Another model in the recorded folder is refused unless --model says which to use.
  std::string settings = own + "/base-model/settings.json";
  json s = json::parse(read_file(settings));
  s["changed"] = true;
  write_file_atomic(settings, s.dump());
  test::CliResult changed =
      test::run_lorasum("predictors --runs " + given + " --out " + dir + "/q");
  CHECK(changed.status == 2);
  CHECK_THAT(changed.err,
             Catch::Contains("now holds another model") && Catch::Contains("give --model"));
  CHECK(rows(given, "--model " + own + "/base-model").size() == 3);
  fs::remove_all(dir);
}
