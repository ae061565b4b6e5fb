// The study's outputs: tables (terminal and results.md), results.csv, results.json, SVG plots.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/charts.h"
#include "experiments/study.h"
#include "experiments/svg.h"
#include "lora/factors.h"
#include "tensor/file_io.h"

namespace ls {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The study's published pairwise changes (arXiv 2508.11985, GPT-2 Small, r=4, α=64).
const std::map<std::string, double> kPublishedChange = {
    {"math+medicine", -9.10}, {"math+finance", 4.54}, {"medicine+finance", 27.56}};

std::string label(const std::vector<std::string>& d) { return fmt::format("{}", fmt::join(d, "+")); }

std::string pm(const Stat& s, const char* f = "{:.2f}") {
  std::string mean = fmt::format(fmt::runtime(f), s.mean());
  return s.values.size() > 1 ? mean + " ± " + fmt::format(fmt::runtime(f), s.std()) : mean;
}

json stat_json(const Stat& s) { return {{"mean", s.mean()}, {"std", s.std()}, {"per_seed", s.values}}; }

std::string tables(const StudyResults& R) {
  std::ostringstream o;
  o << "### Pairwise sums vs merged-data fine-tuning (perplexity on the pair's test sets)\n\n"
    << "| pair | merged ppl | sum ppl | change % | RMS cos | mean abs cos | study change % |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const PairResult& p : R.pairs) {
    auto pub = kPublishedChange.find(label(p.domains));
    o << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", label(p.domains), pm(p.ppl_merged),
                     pm(p.ppl_sum), pm(p.change_pct), pm(p.rms_cos, "{:.4f}"),
                     pm(p.mean_abs_cos, "{:.4f}"),
                     pub == kPublishedChange.end() ? "—" : fmt::format("{:+.2f}", pub->second));
  }
  o << "\n### Triple (perplexity on all three test sets)\n\n"
    << "| model | ppl | change % vs merged-all | RMS cos |\n|---|---|---|---|\n";
  o << fmt::format("| merged-data, all three | {} | — | — |\n", pm(R.triple.ppl_merged));
  o << fmt::format("| sum of the three singles | {} | {} | {} |\n", pm(R.triple.ppl_sum),
                   pm(R.triple.change_pct), pm(R.triple.rms_cos, "{:.4f}"));
  for (const VariantResult& v : R.variants)
    o << fmt::format("| merged {} + single {} | {} | {} | {} |\n", label(v.merged), v.single,
                     pm(v.ppl), pm(v.change_pct), pm(v.rms_cos, "{:.4f}"));
  o << "\n### Single adapters × test domain (perplexity)\n\n| adapter |";
  for (const auto& d : R.domains) o << " " << d << " |";
  o << "\n|---|";
  for (size_t i = 0; i < R.domains.size(); ++i) o << "---|";
  o << "\n| base model |";
  for (const auto& d : R.domains) o << " " << pm(R.base.at(d)) << " |";
  o << "\n";
  for (const auto& a : R.domains) {
    o << "| " << a << " |";
    for (const auto& d : R.domains) o << " " << pm(R.singles.at(a).at(d)) << " |";
    o << "\n";
  }
  o << fmt::format(
      "\n### Fit: change % = {:.2f} · RMS cos {} {:.2f}, Pearson r = {:.3f} ({} points)\n\n"
      "Random-adapter baseline at these shapes: RMS cos {:.4f} ± {:.4f} (analytic ≈ {:.4f}).\n",
      R.fit.slope, R.fit.intercept < 0 ? "−" : "+", std::fabs(R.fit.intercept), R.fit.pearson_r,
      R.fit.points, R.random_cos.rms_mean, R.random_cos.rms_std, R.random_cos.analytic_rms);
  return o.str();
}

std::string csv(const StudyResults& R) {
  std::string out = "kind,name,seed,ppl_merged,ppl_sum,change_pct,rms_cos\n";
  auto rows = [&](const char* kind, const std::string& name, const Stat& merged, const Stat& sum,
                  const Stat& change, const Stat& cos) {
    for (size_t s = 0; s < change.values.size(); ++s)
      out += fmt::format("{},{},{},{:.6f},{:.6f},{:.4f},{:.6f}\n", kind, name, s,
                         merged.values.empty() ? NAN : merged.values[s], sum.values[s],
                         change.values[s], cos.values[s]);
  };
  for (const PairResult& p : R.pairs) rows("pair", label(p.domains), p.ppl_merged, p.ppl_sum, p.change_pct, p.rms_cos);
  rows("triple", label(R.triple.domains), R.triple.ppl_merged, R.triple.ppl_sum, R.triple.change_pct, R.triple.rms_cos);
  for (const VariantResult& v : R.variants)
    rows("variant", label(v.merged) + "|" + v.single, R.triple.ppl_merged, v.ppl, v.change_pct, v.rms_cos);
  return out;
}

json results_json(const StudyResults& R, const ReproduceOptions& o, const Preset& p, double seconds) {
  json pairs = json::array();
  for (const PairResult& r : R.pairs)
    pairs.push_back({{"domains", r.domains}, {"ppl_merged", r.ppl_merged.mean()},
                     {"ppl_sum", r.ppl_sum.mean()}, {"change_pct", r.change_pct.mean()},
                     {"rms_cos", r.rms_cos.mean()}, {"mean_abs_cos", r.mean_abs_cos.mean()},
                     {"max_abs_cos", r.max_abs_cos.mean()}, {"param_cos", r.param_cos.mean()},
                     {"per_seed", {{"ppl_merged", r.ppl_merged.values}, {"ppl_sum", r.ppl_sum.values},
                                   {"change_pct", r.change_pct.values}, {"rms_cos", r.rms_cos.values}}},
                     {"std", {{"change_pct", r.change_pct.std()}, {"rms_cos", r.rms_cos.std()}}}});
  json variants = json::array();
  for (const VariantResult& v : R.variants)
    variants.push_back({{"merged", v.merged}, {"single", v.single}, {"ppl", stat_json(v.ppl)},
                        {"change_pct", stat_json(v.change_pct)}, {"rms_cos", stat_json(v.rms_cos)}});
  json singles, base;
  for (const auto& [a, row] : R.singles)
    for (const auto& [d, s] : row) singles[a][d] = stat_json(s);
  for (const auto& [d, s] : R.base) base[d] = stat_json(s);
  return {{"preset", p.name},
          {"seeds", o.seeds},
          {"hparams", o.hparams},
          {"lora", {{"r", p.lora.r}, {"alpha", p.lora.alpha}, {"targets", p.lora.target_modules},
                    {"dropout", p.lora.dropout}}},
          {"training", {{"lr", p.adapter.lr}, {"epochs", p.adapter.epochs}, {"batch", p.adapter.batch},
                        {"seq_len", p.adapter.seq_len}, {"warmup", p.adapter.warmup},
                        {"weight_decay", p.adapter.weight_decay}}},
          {"pairs", pairs},
          {"triple", {{"domains", R.triple.domains}, {"ppl_merged", R.triple.ppl_merged.mean()},
                      {"ppl_sum", R.triple.ppl_sum.mean()}, {"change_pct", R.triple.change_pct.mean()},
                      {"rms_cos", R.triple.rms_cos.mean()},
                      {"per_seed", {{"ppl_merged", R.triple.ppl_merged.values},
                                    {"ppl_sum", R.triple.ppl_sum.values},
                                    {"change_pct", R.triple.change_pct.values}}},
                      {"variants", variants}}},
          {"singles", singles},
          {"base", base},
          {"fit", {{"slope", R.fit.slope}, {"intercept", R.fit.intercept},
                   {"pearson_r", R.fit.pearson_r}, {"points", R.fit.points}}},
          {"random_baseline_rms_cos", {{"mean", R.random_cos.rms_mean}, {"std", R.random_cos.rms_std},
                                       {"analytic", R.random_cos.analytic_rms}}},
          {"published_change_pct", kPublishedChange},
          {"seconds", seconds}};
}

void write_plots(const StudyResults& R, const std::vector<AdapterJob>& jobs, const std::string& dir) {
  fs::create_directories(dir);
  svg::Scatter s;
  s.title = "Perplexity change of the naive sum vs RMS cosine";
  s.subtitle = fmt::format("every pair × seed; least squares: Pearson r = {:.3f}", R.fit.pearson_r);
  s.x_label = "RMS cosine similarity of the two adapters' deltas";
  s.y_label = "change % (sum vs merged-data)";
  for (const PairResult& p : R.pairs)
    for (size_t i = 0; i < p.rms_cos.values.size(); ++i)
      s.points.push_back({p.rms_cos.values[i], p.change_pct.values[i], label(p.domains)});
  s.fit_line = R.fit.points >= 2;
  s.slope = R.fit.slope;
  s.intercept = R.fit.intercept;
  write_file_atomic(dir + "/change_vs_cosine.svg", svg::scatter(s));

  for (const auto& [pair, report] : R.pair_similarity) {
    svg::Heatmap h;
    h.title = "Per-module cosine of the deltas: " + pair + " (seed 0)";
    h.subtitle = fmt::format("RMS {:.4f}, mean |cos| {:.4f}", report.rms_cosine, report.mean_abs_cosine);
    h.x_label = "module";
    h.y_label = "layer";
    h.value_label = "cosine";
    std::map<int64_t, std::map<std::string, double>> grid;
    for (const ModuleCosine& m : report.modules) {
      ModulePlace place = module_place(m.module);
      grid[place.layer][place.kind] = m.cosine;
      if (std::find(h.columns.begin(), h.columns.end(), place.kind) == h.columns.end())
        h.columns.push_back(place.kind);
    }
    for (const auto& [layer, row] : grid) {
      h.rows.push_back(std::to_string(layer));
      std::vector<double> values;
      for (const std::string& col : h.columns) values.push_back(row.count(col) ? row.at(col) : NAN);
      h.values.push_back(values);
    }
    write_file_atomic(dir + "/cosine_" + pair + ".svg", svg::heatmap(h));
  }

  // Per-step losses are noisy at batch 8; a trailing mean over 10 steps shows the trend.
  constexpr size_t kWindow = 10;
  svg::LineChart curves{"Training loss of the seed-0 adapters (mean of the last 10 steps)",
                        "step", "loss", {}};
  for (const AdapterJob& j : jobs) {
    if (j.seed != 0) continue;
    std::ifstream in(j.job.out + "/train_log.csv");
    std::string line;
    std::getline(in, line);  // header
    svg::Series series{j.label(), {}, {}};
    std::vector<double> losses;
    double window_sum = 0;
    while (std::getline(in, line)) {
      double step = 0, epoch = 0, loss = 0;
      if (std::sscanf(line.c_str(), "%lf,%lf,%lf", &step, &epoch, &loss) != 3) continue;
      losses.push_back(loss);
      window_sum += loss - (losses.size() > kWindow ? losses[losses.size() - 1 - kWindow] : 0.0);
      series.x.push_back(step);
      series.y.push_back(window_sum / static_cast<double>(std::min(losses.size(), kWindow)));
    }
    curves.series.push_back(series);
  }
  write_file_atomic(dir + "/training_curves.svg", svg::line_chart(curves));
}

}  // namespace

std::string write_study_report(const StudyResults& R, const ReproduceOptions& o, const Preset& p,
                               const std::vector<AdapterJob>& jobs, const std::string& run_dir,
                               double seconds) {
  std::string body = tables(R);
  std::string md = fmt::format(
      "# lorasum reproduce — preset {}, {} seed(s), {} hyperparameters\n\nFigures are mean ± "
      "std over seeds. change % = (ppl_sum − ppl_merged) / ppl_merged × 100.\n\n{}\nRun time: "
      "{:.0f} s.\n",
      p.name, o.seeds, o.hparams, body, seconds);
  write_file_atomic(run_dir + "/results.md", md);
  write_file_atomic(run_dir + "/results.csv", csv(R));
  write_file_atomic(run_dir + "/results.json", results_json(R, o, p, seconds).dump(2) + "\n");
  write_plots(R, jobs, run_dir + "/plots");
  return "\n" + body + fmt::format("\nResults, adapters and plots: {}/ (results.md, results.csv, "
                                   "results.json, plots/*.svg); {:.0f} s.\n", run_dir, seconds);
}

}  // namespace ls
