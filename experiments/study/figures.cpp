#include "experiments/study/figures.h"

#include <fmt/format.h>

#include <cmath>

#include "experiments/plots/charts.h"
#include "experiments/plots/svg.h"

namespace ls {

namespace {

using nlohmann::json;
using svg::Marker;

constexpr Marker kSeedMarkers[] = {Marker::circle, Marker::square, Marker::triangle,
                                   Marker::diamond, Marker::down};

std::string pair_label(const json& domains) {
  std::string out;
  for (const json& d : domains) {
    if (!out.empty()) out += '+';
    out += d.get<std::string>();
  }
  return out;
}

svg::XYSeries series(const std::string& name, const std::string& colour_key, bool joined) {
  svg::XYSeries s;
  s.name = name;
  s.colour_key = colour_key;
  s.joined = joined;
  return s;
}

std::string signed_value(double v) { return fmt::format("{:+.3g}", v); }

// The random-adapter baseline as a band of ± one std (at least visible when the std is 0).
svg::Band random_band(const json& baseline) {
  double mean = baseline.at("mean").get<double>(), std = baseline.at("std").get<double>();
  return {fmt::format("random adapters of these shapes: RMS cos {:.4f} ± {:.4f}", mean, std),
          mean - std, mean + std, true};
}

}  // namespace

std::string change_vs_cosine_svg(const json& results) {
  svg::XYPlot p;
  const json& fit = results.at("fit");
  p.title = "Perplexity change of the naive sum against the RMS cosine of its adapters";
  p.subtitle = fmt::format("one marker per pair and seed; Pearson r = {:.3f} over {} points",
                           fit.at("pearson_r").get<double>(), fit.at("points").get<int>());
  p.x_label = "RMS cosine similarity of the two adapters' deltas";
  p.y_label = "change % (sum vs merged-data)";
  size_t seeds = 0;
  const json& published = results.at("published_change_pct");
  for (const json& pair : results.at("pairs")) {
    svg::XYSeries s = series(pair_label(pair.at("domains")), "", false);
    const json& cos = pair.at("per_seed").at("rms_cos");
    const json& change = pair.at("per_seed").at("change_pct");
    for (size_t i = 0; i < cos.size() && i < change.size(); ++i) {
      double x = cos[i].get<double>(), y = change[i].get<double>();
      s.points.push_back(
          {x, y, NAN, kSeedMarkers[i % std::size(kSeedMarkers)],
           fmt::format("{}, seed {}: RMS cos {:.4f}, change {} %", s.name, i, x, signed_value(y))});
    }
    seeds = std::max(seeds, s.points.size());
    if (published.contains(s.name))
      p.references.push_back({s.name, published[s.name].get<double>()});
    p.series.push_back(std::move(s));
  }
  for (size_t i = 0; i < seeds && seeds > 1; ++i)
    p.marker_legend.push_back(
        {kSeedMarkers[i % std::size(kSeedMarkers)], false, fmt::format("seed {}", i)});
  p.references_label = "the study's change % (GPT-2 Small, one run), in the pair's colour";
  if (fit.at("points").get<int>() >= 2) {
    double slope = fit.at("slope").get<double>(), intercept = fit.at("intercept").get<double>();
    // No-break spaces keep the equation's sign with its number when the legend wraps.
    std::string label =
        fmt::format("least squares: change % = {}·cos\u00a0{}\u00a0{}", svg::format_value(slope),
                    intercept < 0 ? "−" : "+", svg::format_value(std::fabs(intercept)));
    p.fits.push_back({label, slope, intercept});
  }
  if (results.contains("random_baseline_rms_cos"))
    p.bands.push_back(random_band(results["random_baseline_rms_cos"]));
  return svg::xy_plot(p);
}

std::string ablation_svg(const json& ablation) {
  svg::BarChart c;
  c.title = "Naive sum against merged-data training, per configuration of the study's choices";
  c.subtitle = "change % of perplexity, mean ± std over seeds";
  c.y_label = "change % (sum vs merged-data)";
  c.reference_label = "the study's change % (GPT-2 Small, one run), in the pair's colour";
  const json& configs = ablation.at("configurations");
  const json& published = ablation.at("published_change_pct");
  for (const json& config : configs) c.categories.push_back(config.at("label").get<std::string>());
  if (configs.empty()) return svg::bar_chart(c);
  const json& first_pairs = configs.front().at("pairs");
  for (size_t k = 0; k < first_pairs.size(); ++k) {
    std::string name = pair_label(first_pairs[k].at("domains"));
    svg::BarSeries s{name, {}, {}, published.contains(name) ? published[name].get<double>() : NAN};
    for (const json& config : configs) {
      const json& pair = config.at("pairs").at(k);
      s.values.push_back(pair.at("change_pct").get<double>());
      s.errors.push_back(pair.at("std").at("change_pct").get<double>());
    }
    c.series.push_back(std::move(s));
  }
  return svg::bar_chart(c);
}

namespace {

// What a scale report's x axis is: base-model parameters, or (runs of one size at several
// pretraining doses) tokens per parameter.
struct ScaleAxis {
  std::string key, label, what;  // the runs' field, the axis label, "parameters" for tooltips
  double study_at;               // where the study's figures sit on it
};

ScaleAxis scale_axis(const json& scale) {
  const json& study = scale.at("study");
  if (scale.value("axis", "parameters") == "tokens_per_parameter")
    return {"tokens_per_parameter", "pretraining tokens per parameter (log scale)",
            "tokens per parameter", study.at("tokens_per_parameter").get<double>()};
  return {"parameters", "base-model parameters (log scale)", "parameters",
          study.at("parameters").get<double>()};
}

// A run's figure at `key` of one pair (or of the run), at the run's place on the axis, with its
// std when the run had more than one seed.
svg::XYPoint scale_point(const ScaleAxis& axis, const json& run, const json& figure,
                         const std::string& key, const std::string& what) {
  double x = run.at(axis.key).get<double>(), mean = figure.at(key).get<double>();
  double std = run.at("seeds").get<int>() > 1 && figure.contains(key + "_std") &&
                       figure[key + "_std"].is_number()
                   ? figure[key + "_std"].get<double>()
                   : NAN;
  return {
      x, mean, std, Marker::circle,
      fmt::format("{}, {} ({} {}, {} seeds): {}{}", what, run.at("preset").get<std::string>(),
                  svg::count_label(x), axis.what, run.at("seeds").get<int>(),
                  svg::format_value(mean), std::isnan(std) ? "" : " ± " + svg::format_value(std))};
}

bool has_number(const json& j, const std::string& key) {
  return j.contains(key) && j[key].is_number();
}

// One joined series per pair of `key` across the runs (and the triple's `triple_key` if given).
void add_pair_series(svg::XYPlot& p, const json& scale, const ScaleAxis& axis,
                     const std::string& key, const std::string& triple_key) {
  for (const auto& [pair, _] : scale.at("study").at("change_pct").items()) {
    svg::XYSeries s = series(pair, "", true);
    for (const json& run : scale.at("runs"))
      if (run.at("pairs").contains(pair) && has_number(run["pairs"][pair], key))
        s.points.push_back(scale_point(axis, run, run["pairs"][pair], key, pair));
    if (!s.points.empty()) p.series.push_back(std::move(s));
  }
  if (triple_key.empty()) return;
  svg::XYSeries triple = series("all three", "all three", true);
  triple.dash = "5 3";
  for (const json& run : scale.at("runs"))
    if (has_number(run, triple_key))
      triple.points.push_back(scale_point(axis, run, run, triple_key, "all three"));
  if (!triple.points.empty()) p.series.push_back(std::move(triple));
}

}  // namespace

std::string scale_svg(const json& scale, bool cosine) {
  ScaleAxis axis = scale_axis(scale);
  std::string against = axis.key == "parameters" ? "base-model size" : "pretraining dose";
  svg::XYPlot p;
  p.title = cosine ? "RMS cosine of a pair's adapters against " + against
                   : "Perplexity change of the naive sum against " + against;
  p.subtitle = "mean ± std over each run's seeds; a line joins a pair's runs";
  p.x_label = axis.label;
  p.y_label = cosine ? "RMS cosine of the deltas" : "change % (sum vs merged-data)";
  p.log_x = true;
  p.dodge = 3;
  add_pair_series(p, scale, axis, cosine ? "rms_cos" : "change_pct", "");
  if (cosine) {
    svg::XYSeries random = series("random adapters of the same shapes", "random", true);
    random.dash = "5 3";
    for (const json& run : scale.at("runs"))
      if (has_number(run, "random_rms_cos"))
        random.points.push_back(scale_point(axis, run, run, "random_rms_cos", "random adapters"));
    if (!random.points.empty()) p.series.push_back(std::move(random));
    return svg::xy_plot(p);
  }
  for (const auto& [pair, published] : scale.at("study").at("change_pct").items()) {
    svg::XYSeries theirs = series("", pair, false);
    theirs.hollow = true;
    theirs.points.push_back(
        {axis.study_at, published.get<double>(), NAN, Marker::diamond,
         fmt::format("the study, {}: {:+.2f} %", pair, published.get<double>())});
    p.series.push_back(std::move(theirs));
  }
  p.marker_legend.push_back(
      {Marker::diamond, true,
       axis.key == "parameters"
           ? "the study (GPT-2 Small, one run)"
           : "the study (GPT-2 Small, one run; its dose an estimate, OpenAI gave no token count)"});
  return svg::xy_plot(p);
}

std::string scale_xi_svg(const json& scale) {
  ScaleAxis axis = scale_axis(scale);
  svg::XYPlot p;
  p.title = "Non-additivity ξ of the naive sum against " +
            std::string(axis.key == "parameters" ? "base-model size" : "pretraining dose");
  p.subtitle =
      "ξ: mean over a domain's test tokens of KL(single adapter ‖ sum), averaged over the "
      "combination's domains; mean ± std over seeds";
  p.x_label = axis.label;
  p.y_label = "ξ (nats per token)";
  p.log_x = true;
  p.dodge = 3;
  add_pair_series(p, scale, axis, "xi", "triple_xi");
  return svg::xy_plot(p);
}

std::string change_vs_xi_svg(const json& scale) {
  ScaleAxis axis = scale_axis(scale);
  svg::XYPlot p;
  p.title = "Perplexity change of the naive sum against its non-additivity ξ";
  const json& rel = scale.at("relation");
  p.subtitle = fmt::format(
      "one marker per run and pair (mean ± std over seeds); over the {} pair points Pearson r = "
      "{} for ξ, {} for RMS cosine",
      rel.at("points").get<int>(), svg::format_value(rel.at("pearson_xi").get<double>()),
      svg::format_value(rel.at("pearson_rms_cos").get<double>()));
  p.x_label = "ξ (nats per token)";
  p.y_label = "change % (sum vs merged-data)";
  for (const auto& [pair, _] : scale.at("study").at("change_pct").items()) {
    svg::XYSeries s = series(pair, "", false);
    for (const json& run : scale.at("runs")) {
      if (!run.at("pairs").contains(pair) || !has_number(run["pairs"][pair], "xi")) continue;
      svg::XYPoint pt = scale_point(axis, run, run["pairs"][pair], "change_pct", pair);
      pt.x = run["pairs"][pair]["xi"].get<double>();
      pt.tooltip += fmt::format(", ξ {}", svg::format_value(pt.x));
      s.points.push_back(pt);
    }
    if (!s.points.empty()) p.series.push_back(std::move(s));
  }
  return svg::xy_plot(p);
}

std::vector<std::pair<std::string, std::string>> scale_figures(const json& scale) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"scale.svg", scale_svg(scale, false)}, {"scale_cos.svg", scale_svg(scale, true)}};
  if (scale.contains("relation")) {
    out.push_back({"scale_xi.svg", scale_xi_svg(scale)});
    out.push_back({"change_vs_xi.svg", change_vs_xi_svg(scale)});
  }
  return out;
}

}  // namespace ls
