// The figures' text measure (against widths summed by hand from DejaVu Sans's advance table),
// their layout (every unrotated text inside the canvas and clear of the others, by the same
// measure), the figures drawn from a run's JSON, and `lorasum plots --from`.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "experiments/plots/charts.h"
#include "experiments/plots/svg.h"
#include "experiments/plots/text_metrics.h"
#include "experiments/study/figures.h"
#include "tensor/io/file_io.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Box {
  double x0, y0, x1, y1;
  std::string text;
};

std::string unescape(std::string s) {
  for (auto [from, to] :
       {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}})
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1))
      s.replace(at, std::string(from).size(), to);
  return s;
}

// The boxes of a document's unrotated <text> elements: advance width by the metric table,
// height from DejaVu Sans's ascent (0.928 em) and descent (0.236 em).
std::vector<Box> text_boxes(const std::string& doc) {
  static const std::regex text(
      R"re(<text x="([-\d.]+)" y="([-\d.]+)" font-size="([\d.]+)" text-anchor="(\w+)" fill="[^"]*"( font-weight="bold")?>([^<]*)</text>)re");
  std::vector<Box> boxes;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), text); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    double x = std::stod(m[1]), y = std::stod(m[2]), size = std::stod(m[3]);
    std::string content = unescape(m[6]);
    double w = svg::text_width(content, size, m[5].matched);
    double x0 = m[4] == "middle" ? x - w / 2 : m[4] == "end" ? x - w : x;
    boxes.push_back({x0, y - 0.928 * size, x0 + w, y + 0.236 * size, content});
  }
  return boxes;
}

std::pair<double, double> canvas_size(const std::string& doc) {
  std::smatch m;
  REQUIRE(std::regex_search(doc, m, std::regex(R"re(width="([\d.]+)" height="([\d.]+)")re")));
  return {std::stod(m[1]), std::stod(m[2])};
}

void check_layout(const std::string& doc) {
  auto [w, h] = canvas_size(doc);
  std::vector<Box> boxes = text_boxes(doc);
  REQUIRE(boxes.size() > 5);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& a = boxes[i];
    INFO(a.text);
    CHECK(a.x0 >= 0);
    CHECK(a.y0 >= 0);
    CHECK(a.x1 <= w);
    CHECK(a.y1 <= h);
    for (size_t j = 0; j < i; ++j) {
      const Box& b = boxes[j];
      INFO(b.text);
      bool apart =
          a.x1 <= b.x0 + 0.5 || b.x1 <= a.x0 + 0.5 || a.y1 <= b.y0 + 0.5 || b.y1 <= a.y0 + 0.5;
      CHECK(apart);
    }
  }
}

size_t count(const std::string& doc, const std::string& what) {
  size_t n = 0;
  for (size_t at = doc.find(what); at != std::string::npos; at = doc.find(what, at + 1)) ++n;
  return n;
}

// A results.json as lorasum reproduce writes it, with just what the figures read.
json hand_made_results() {
  json pairs = json::array();
  double cos[3][2] = {{0.02, 0.03}, {0.04, 0.05}, {0.06, 0.07}};
  const char* names[3][2] = {{"math", "medicine"}, {"math", "finance"}, {"medicine", "finance"}};
  for (int k = 0; k < 3; ++k)
    pairs.push_back({{"domains", {names[k][0], names[k][1]}},
                     {"ppl_merged", 10.0},
                     {"ppl_sum", 11.0 + k},
                     {"change_pct", 10.0 * (k + 1)},
                     {"rms_cos", (cos[k][0] + cos[k][1]) / 2},
                     {"std", {{"change_pct", 1.5}, {"rms_cos", 0.005}}},
                     {"per_seed",
                      {{"change_pct", {9.0 * (k + 1), 11.0 * (k + 1)}},
                       {"rms_cos", {cos[k][0], cos[k][1]}},
                       {"ppl_merged", {10.0, 10.0}},
                       {"ppl_sum", {10.9 + k, 11.1 + k}}}}});
  return {{"preset", "hand-made"},
          {"seeds", 2},
          {"pairs", pairs},
          {"triple", nullptr},
          {"fit", {{"slope", 500.0}, {"intercept", -2.0}, {"pearson_r", 0.97}, {"points", 6}}},
          {"random_baseline_rms_cos", {{"mean", 0.011}, {"std", 0.002}}},
          {"published_change_pct",
           {{"math+medicine", -9.10}, {"math+finance", 4.54}, {"medicine+finance", 27.56}}}};
}

}  // namespace

TEST_CASE("text width: DejaVu Sans advances summed, UTF-8 decoded", "[plots]") {
  // H 752, i 278 (regular); H 837, i 343 (bold), in 1/1000 em; at 10 px.
  CHECK(svg::text_width("Hi", 10) == Approx(10.30));
  CHECK(svg::text_width("Hi", 10, true) == Approx(11.80));
  CHECK(svg::text_width("\u22121 \u00b1", 20) == Approx((838 + 636 + 318 + 838) * 0.02));
  CHECK(svg::text_width("\u20ac", 12) == Approx(12.0));  // not in the table: an em
  CHECK(svg::text_width("", 12) == 0.0);
  std::vector<std::string> lines = svg::wrap("aa bb cc", 10, svg::text_width("aa bb", 10));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "aa bb");
  CHECK(lines[1] == "cc");
  CHECK(svg::wrap("averyverylongword", 10, 5) == std::vector<std::string>{"averyverylongword"});
  CHECK(svg::count_label(1071872) == "1.07M");
  CHECK(svg::count_label(1e6) == "1M");
  CHECK(svg::count_label(124439808) == "124M");
  CHECK(svg::count_label(950) == "950");
  CHECK(svg::series_colour("math+medicine") == svg::series_colour("math+medicine"));
  CHECK(svg::series_colour("math+medicine") != svg::series_colour("math+finance"));
}

TEST_CASE("charts keep every text on the canvas and clear of the others", "[plots]") {
  svg::XYPlot p;
  p.title =
      "A title long enough that it has to wrap onto a second line of the canvas, and "
      "perhaps a third one as well";
  p.subtitle = "a subtitle that is also rather long, so that it wraps too, under the title";
  p.x_label = "parameters";
  p.y_label = "change %";
  p.log_x = true;
  for (const char* name : {"math+medicine", "math+finance",
                           "a series whose name is far too "
                           "long for one legend line"}) {
    svg::XYSeries s;
    s.name = name;
    s.joined = true;
    for (double x : {1e6, 8e6, 3e7}) s.points.push_back({x, x / 1e6, 1.0, svg::Marker::square, ""});
    p.series.push_back(s);
  }
  p.bands.push_back({"a band", 1, 2, false});
  std::string doc = svg::xy_plot(p);
  check_layout(doc);
  for (const char* tick : {">1M<", ">10M<"}) CHECK_THAT(doc, Catch::Contains(tick));
  CHECK(count(doc, "<rect x=") >= 9 + 1);  // nine square markers, the band, the frame

  svg::BarChart b;
  b.title = "Bars";
  b.y_label = "change %";
  b.reference_label = "dashed: the study";
  for (int k = 0; k < 9; ++k) b.categories.push_back("configuration-" + std::to_string(k));
  b.series.push_back(
      {"math+medicine", std::vector<double>(9, 5.0), std::vector<double>(9, 1.0), -9.1});
  check_layout(svg::bar_chart(b));
}

TEST_CASE("change_vs_cosine from results.json: a marker per pair and seed, fit, baseline",
          "[plots]") {
  std::string doc = change_vs_cosine_svg(hand_made_results());
  check_layout(doc);
  CHECK(count(doc, "seed 1: RMS cos") == 3);  // one marker per pair for seed 1
  CHECK_THAT(doc, Catch::Contains("math+finance, seed 0: RMS cos 0.0400, change +18 %"));
  CHECK_THAT(doc, Catch::Contains("RMS cos 0.0110 ± 0.0020"));
  CHECK_THAT(doc, Catch::Contains(">500·cos\u00a0−\u00a02<"));
  CHECK(count(doc, "stroke-dasharray") == 3 + 1);  // the study's three values and the legend's
}

TEST_CASE("plots --from redraws a run's figures and report.html from its JSON", "[plots]") {
  std::string dir = test::fresh_dir("plots_from");
  fs::create_directories(dir);
  write_file_atomic(dir + "/results.json", hand_made_results().dump());
  test::CliResult r = test::run_lorasum("plots --from " + dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains(dir + "/plots/change_vs_cosine.svg") &&
                        Catch::Contains(dir + "/report.html"));
  std::string page = read_file(dir + "/report.html");
  CHECK_THAT(page, Catch::Contains("<td>+20.00 ± 1.50</td>") && Catch::Contains("+4.54") &&
                       Catch::Contains("<svg") && Catch::Contains("<details>") &&
                       Catch::Contains("<a href=\"results.json\">"));
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("http") == page.find("http://www.w3.org/2000/svg"));  // no network
  CHECK_THAT(page, !Catch::Contains("Compositions"));  // the hand-made run scored none

  // A run that scored other compositions and ξ shows them, as results.json records them.
  json with = hand_made_results();
  auto stat = [](double mean, double std) { return json{{"mean", mean}, {"std", std}}; };
  with["compositions"] = {
      {"methods", {"sum", "searched", "ties", "svd"}},
      {"ties_density", 0.2},
      {"svd_rank", 4},
      {"validation_examples_per_domain", 64},
      {"combinations",
       {{{"domains", {"math", "medicine"}},
         {"change_pct",
          {{"sum", stat(10, 1.5)},
           {"searched", stat(5.5, 0.75)},
           {"ties", stat(4.5, 0.25)},
           {"svd", stat(-1, 0)}}},
         {"xi", {{"math", stat(0.125, 0.01)}, {"medicine", stat(0.0625, 0.005)}}},
         {"xi_mean", stat(0.09375, 0.0075)},
         {"relative_delta_norm", {{"math", stat(0.5, 0.02)}, {"medicine", stat(0.25, 0.01)}}},
         {"searched_weight", json::object()}}}}};
  write_file_atomic(dir + "/results.json", with.dump());
  REQUIRE(test::run_lorasum("plots --from " + dir).status == 0);
  page = read_file(dir + "/report.html");
  CHECK_THAT(page, Catch::Contains("<th>naive sum</th><th>searched weights</th><th>TIES (density "
                                   "0.2)</th><th>SVD rank 4</th>") &&
                       Catch::Contains("<td>math+medicine</td><td>+10.00 ± 1.50</td><td>+5.50 ± "
                                       "0.75</td><td>+4.50 ± 0.25</td><td>-1.00 ± 0.00</td>") &&
                       Catch::Contains("<td>math+medicine</td><td>0.0938 ± 0.0075</td><td>math</td>"
                                       "<td>0.125 ± 0.01</td><td>0.5000 ± 0.0200</td><td>—</td>") &&
                       Catch::Contains("<td></td><td></td><td>medicine</td><td>0.0625 ± "
                                       "0.005</td><td>0.2500 ± 0.0100</td><td>—</td>") &&
                       Catch::Contains("on 64 examples of each domain"));

  json broken = hand_made_results();
  broken.erase("fit");
  write_file_atomic(dir + "/results.json", broken.dump());
  test::CliResult bad = test::run_lorasum("plots --from " + dir);
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains(dir + "/results.json: not as lorasum writes it"));
  fs::remove(dir + "/results.json");
  test::CliResult none = test::run_lorasum("plots --from " + dir);
  CHECK(none.status == 2);
  CHECK_THAT(none.err, Catch::Contains("no results.json, ablation.json or scale.json"));
  fs::remove_all(dir);
}
