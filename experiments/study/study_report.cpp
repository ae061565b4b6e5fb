// The study's outputs: tables (terminal and results.md), results.csv, results.json, SVG plots.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/app/pretrain_dose.h"
#include "experiments/app/settings.h"
#include "experiments/plots/charts.h"
#include "experiments/plots/svg.h"
#include "experiments/study/compositions.h"
#include "experiments/study/figures.h"
#include "experiments/study/report_page.h"
#include "experiments/study/run_settings.h"
#include "experiments/study/study.h"
#include "lora/factors.h"
#include "tensor/io/file_io.h"
#include "tensor/precision.h"

namespace ls {

const std::map<std::string, double>& published_change() {
  static const std::map<std::string, double> published = {
      {"math+medicine", -9.10}, {"math+finance", 4.54}, {"medicine+finance", 27.56}};
  return published;
}

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json stat_json(const Stat& s) {
  return {{"mean", s.mean()}, {"std", s.std()}, {"per_seed", s.values}};
}

std::string pair_table(const StudyResults& R) {
  std::ostringstream o;
  o << "### Pairwise sums vs merged-data fine-tuning\n\n"
    << "| pair | merged ppl | sum ppl | change % | RMS cos | mean abs cos | study change % |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const PairResult& p : R.pairs) {
    auto pub = published_change().find(domains_label(p.domains));
    o << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", domains_label(p.domains),
                     mean_pm(p.ppl_merged), mean_pm(p.ppl_sum), mean_pm(p.change_pct),
                     mean_pm(p.rms_cos, "{:.4f}"), mean_pm(p.mean_abs_cos, "{:.4f}"),
                     pub == published_change().end() ? "—" : fmt::format("{:+.2f}", pub->second));
  }
  o << "\n### Pair models on each domain's test split (perplexity)\n\n| pair | model |";
  for (const auto& d : R.domains) o << " " << d << " |";
  o << "\n|---|---|";
  for (size_t i = 0; i < R.domains.size(); ++i) o << "---|";
  o << "\n";
  for (const PairResult& p : R.pairs)
    for (const auto& [model, by_domain] :
         {std::pair{"merged", &p.merged_by_domain}, std::pair{"sum", &p.sum_by_domain}}) {
      o << "| " << domains_label(p.domains) << " | " << model << " |";
      for (const auto& d : R.domains) o << " " << mean_pm(by_domain->at(d)) << " |";
      o << "\n";
    }
  return o.str();
}

std::string triple_table(const StudyResults& R) {
  std::ostringstream o;
  o << "\n### Triple\n\n"
    << "| model | ppl | change % vs merged-all | RMS cos |\n|---|---|---|---|\n";
  o << fmt::format("| merged-data, all three | {} | — | — |\n", mean_pm(R.triple.ppl_merged));
  o << fmt::format("| sum of the three singles | {} | {} | {} |\n", mean_pm(R.triple.ppl_sum),
                   mean_pm(R.triple.change_pct), mean_pm(R.triple.rms_cos, "{:.4f}"));
  for (const VariantResult& v : R.variants)
    o << fmt::format("| merged {} + single {} | {} | {} | {} |\n", domains_label(v.merged),
                     v.single, mean_pm(v.ppl), mean_pm(v.change_pct), mean_pm(v.rms_cos, "{:.4f}"));
  return o.str();
}

std::string singles_table(const StudyResults& R) {
  std::ostringstream o;
  o << "\n### Single adapters × test domain (perplexity)\n\n| adapter |";
  for (const auto& d : R.domains) o << " " << d << " |";
  o << "\n|---|";
  for (size_t i = 0; i < R.domains.size(); ++i) o << "---|";
  o << "\n| base model |";
  for (const auto& d : R.domains) o << " " << mean_pm(R.base.at(d)) << " |";
  o << "\n";
  for (const auto& a : R.domains) {
    if (!R.singles.count(a)) continue;  // --only: not every single was trained
    o << "| " << a << " |";
    for (const auto& d : R.domains) o << " " << mean_pm(R.singles.at(a).at(d)) << " |";
    o << "\n";
  }
  return o.str();
}

std::string fit_line(const char* what, const Fit& f) {
  if (!f.defined())
    return fmt::format("{}: n/a ({} points; a fit needs at least {})", what, f.points,
                       Fit::kMinPoints);
  return fmt::format("{}: change % = {:.2f} · RMS cos {} {:.2f}, Pearson r = {:.3f} ({} points)",
                     what, f.slope, f.intercept < 0 ? "−" : "+", std::fabs(f.intercept),
                     f.pearson_r, f.points);
}

std::string tables(const StudyResults& R) {
  std::string out = R.pairs.empty() ? "" : pair_table(R);  // --only triple: no pair
  if (R.has_triple) out += triple_table(R);
  out += singles_table(R);
  out += "\n### Fit\n\n- " + fit_line("pairs", R.fit) + "\n- " +
         fit_line("all combinations (pairs, triple, variants)", R.fit_all) + "\n";
  out += fmt::format(
      "\nRandom-adapter baseline at these shapes: RMS cos {:.4f} ± {:.4f} "
      "(analytic ≈ {:.4f}).\n",
      R.random_cos.rms_mean, R.random_cos.rms_std, R.random_cos.analytic_rms);
  return out;
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
  for (const PairResult& p : R.pairs)
    rows("pair", domains_label(p.domains), p.ppl_merged, p.ppl_sum, p.change_pct, p.rms_cos);
  if (R.has_triple)
    rows("triple", domains_label(R.triple.domains), R.triple.ppl_merged, R.triple.ppl_sum,
         R.triple.change_pct, R.triple.rms_cos);
  for (const VariantResult& v : R.variants)
    rows("variant", domains_label(v.merged) + "|" + v.single, R.triple.ppl_merged, v.ppl,
         v.change_pct, v.rms_cos);
  return out;
}

json by_domain_json(const std::map<std::string, Stat>& m) {
  json out;
  for (const auto& [d, stat] : m) out[d] = stat_json(stat);
  return out;
}

json pair_json(const PairResult& r) {
  return {{"domains", r.domains},
          {"ppl_merged", r.ppl_merged.mean()},
          {"ppl_sum", r.ppl_sum.mean()},
          {"change_pct", r.change_pct.mean()},
          {"rms_cos", r.rms_cos.mean()},
          {"mean_abs_cos", r.mean_abs_cos.mean()},
          {"max_abs_cos", r.max_abs_cos.mean()},
          {"param_cos", r.param_cos.mean()},
          {"per_seed",
           {{"ppl_merged", r.ppl_merged.values},
            {"ppl_sum", r.ppl_sum.values},
            {"change_pct", r.change_pct.values},
            {"rms_cos", r.rms_cos.values}}},
          {"std", {{"change_pct", r.change_pct.std()}, {"rms_cos", r.rms_cos.std()}}},
          {"merged_by_domain", by_domain_json(r.merged_by_domain)},
          {"sum_by_domain", by_domain_json(r.sum_by_domain)}};
}

json triple_json(const StudyResults& R) {
  if (!R.has_triple) return nullptr;
  json variants = json::array();
  for (const VariantResult& v : R.variants)
    variants.push_back({{"merged", v.merged},
                        {"single", v.single},
                        {"ppl", stat_json(v.ppl)},
                        {"change_pct", stat_json(v.change_pct)},
                        {"rms_cos", stat_json(v.rms_cos)}});
  const PairResult& t = R.triple;
  return {{"domains", t.domains},
          {"ppl_merged", t.ppl_merged.mean()},
          {"ppl_sum", t.ppl_sum.mean()},
          {"change_pct", t.change_pct.mean()},
          {"rms_cos", t.rms_cos.mean()},
          {"std", {{"change_pct", t.change_pct.std()}, {"rms_cos", t.rms_cos.std()}}},
          {"per_seed",
           {{"ppl_merged", t.ppl_merged.values},
            {"ppl_sum", t.ppl_sum.values},
            {"change_pct", t.change_pct.values}}},
          {"variants", variants}};
}

// Each trained adapter with the settings it was actually trained with.
json jobs_json(const std::vector<AdapterJob>& jobs) {
  json out = json::array();
  for (const AdapterJob& j : jobs) {
    const LoraJob& job = j.job;
    out.push_back({{"name", j.name()},
                   {"folder", job.out},
                   {"lr", decimal(job.train.lr)},
                   {"epochs", job.train.epochs},
                   {"batch", job.train.batch},
                   {"seq_len", job.train.seq_len},
                   {"dropout", decimal(job.lora.dropout)},
                   {"warmup", job.train.warmup},
                   {"weight_decay", decimal(job.train.weight_decay)},
                   {"seed", job.train.seed},
                   {"batching", batching_name(job.train.batching)},
                   {"label_layout", job.aligned_labels ? "aligned" : "joined"},
                   {"subsample", job.subsample},
                   {"head_copy", job.train_head_copy},
                   {"init_seed", job.init_seed ? json(*job.init_seed) : json(nullptr)}});
  }
  return out;
}

// The base model's folder, identity (as the adapters' settings records name it), shape and
// size, from the first job. The folder and identity let a later reader (predictors) find the
// very model again.
json base_model_json(const std::vector<AdapterJob>& jobs) {
  if (jobs.empty()) return nullptr;
  const std::string& dir = jobs.front().job.model_dir;
  GPT2Config c = GPT2Config::load(dir + "/config.json");
  return {{"folder", std::filesystem::absolute(dir).lexically_normal().string()},
          {"identity", jobs.front().settings.at("base_model")},
          {"n_layer", c.n_layer},
          {"n_head", c.n_head},
          {"n_embd", c.n_embd},
          {"n_positions", c.n_positions},
          {"vocab_size", c.vocab_size},
          {"parameters", c.parameter_count()},
          {"block_parameters", c.block_parameter_count()},
          {"pretraining", read_dose(dir)}};
}

json fit_json(const Fit& f) {
  if (!f.defined()) return nullptr;
  return {{"slope", f.slope},
          {"intercept", f.intercept},
          {"pearson_r", f.pearson_r},
          {"points", f.points}};
}

// Where the base model and the data came from, as the report's head names them.
std::string base_model_source(const ReproduceOptions& o) {
  if (!o.model_dir.empty()) return "--model " + o.model_dir;
  return o.general.empty() ? "pretrained by the run on the generated corpus"
                           : "pretrained by the run on --general " + o.general;
}

std::string data_source(const ReproduceOptions& o) {
  return o.data_dir.empty() ? "generated" : "--data " + o.data_dir;
}

}  // namespace

json results_json(const StudyResults& R, const ReproduceOptions& o, const Preset& p,
                  const std::vector<AdapterJob>& jobs, double seconds) {
  json pairs = json::array();
  for (const PairResult& r : R.pairs) pairs.push_back(pair_json(r));
  json singles, base;
  for (const auto& [a, row] : R.singles)
    for (const auto& [d, s] : row) singles[a][d] = stat_json(s);
  for (const auto& [d, s] : R.base) base[d] = stat_json(s);
  return {{"preset", p.name},
          {"base_model_source", base_model_source(o)},
          {"data_source", data_source(o)},
          {"adapter_lr", o.lr > 0.0f ? json(decimal(o.lr)) : json(nullptr)},
          {"seeds", o.seeds},
          {"hparams", o.hparams},
          {"study_choices", R.choices.names()},
          {"only", o.only.empty() ? json(nullptr) : json(o.only)},
          {"max_steps", o.max_steps > 0 ? json(o.max_steps) : json(nullptr)},
          {"eval_limit", o.eval_limit > 0 ? json(o.eval_limit) : json(nullptr)},
          {"precision", precision_name(o.precision)},
          {"data", R.data_files},
          {"lora", {{"r", p.lora.r}, {"alpha", p.lora.alpha}, {"targets", p.lora.target_modules}}},
          {"jobs", jobs_json(jobs)},
          {"pairs", pairs},
          {"triple", triple_json(R)},
          {"singles", singles},
          {"base", base},
          {"fit", fit_json(R.fit)},
          {"fit_all", fit_json(R.fit_all)},
          {"random_baseline_rms_cos",
           {{"mean", R.random_cos.rms_mean},
            {"std", R.random_cos.rms_std},
            {"analytic", R.random_cos.analytic_rms}}},
          {"published_change_pct", published_change()},
          {"base_model", base_model_json(jobs)},
          {"seconds", seconds}};
}

namespace {

// One row per layer, one column per module kind, as cosine_grid lays them out.
svg::Heatmap module_cosines(const std::string& pair, const SimilarityReport& report) {
  svg::Heatmap h;
  h.title = "Per-module cosine of the deltas: " + pair + " (seed 0)";
  h.subtitle =
      fmt::format("RMS {:.4f}, mean |cos| {:.4f}", report.rms_cosine, report.mean_abs_cosine);
  h.x_label = "module";
  h.y_label = "layer";
  h.value_label = "cosine";
  CosineGrid grid = cosine_grid(report);
  h.rows = grid.layers;
  h.columns = grid.kinds;
  h.values = grid.cosines;
  return h;
}

// Per-step losses are noisy at batch 8; a trailing mean over 10 steps shows the trend.
constexpr size_t kWindow = 10;

// A job's loss curve from its train_log.csv, as the trailing mean over kWindow steps.
svg::XYSeries smoothed_losses(const AdapterJob& j) {
  std::ifstream in(j.job.out + "/train_log.csv");
  std::string line;
  std::getline(in, line);  // header
  svg::XYSeries series;
  series.name = j.label();
  series.joined = true;
  series.markers = false;
  std::vector<double> losses;
  double window_sum = 0;
  while (std::getline(in, line)) {
    double step = 0, epoch = 0, loss = 0;
    if (std::sscanf(line.c_str(), "%lf,%lf,%lf", &step, &epoch, &loss) != 3) continue;
    losses.push_back(loss);
    window_sum += loss - (losses.size() > kWindow ? losses[losses.size() - 1 - kWindow] : 0.0);
    series.points.push_back({step,
                             window_sum / static_cast<double>(std::min(losses.size(), kWindow)),
                             NAN, svg::Marker::circle, ""});
  }
  return series;
}

void write_plots(const StudyResults& R, const json& results, const std::vector<AdapterJob>& jobs,
                 const std::string& dir) {
  fs::create_directories(dir);
  if (R.fit.defined())  // else there is no fit to draw, and an earlier run's plot would mislead
    write_file_atomic(dir + "/change_vs_cosine.svg", change_vs_cosine_svg(results));
  else
    fs::remove(dir + "/change_vs_cosine.svg");
  for (const auto& [pair, report] : R.pair_similarity)
    write_file_atomic(dir + "/cosine_" + pair + ".svg", svg::heatmap(module_cosines(pair, report)));
  svg::XYPlot curves;
  curves.title = "Training loss of the seed-0 adapters";
  curves.subtitle = "mean of the last 10 steps; a pair's name: its merged-data adapter";
  curves.x_label = "step";
  curves.y_label = "training loss";
  for (const AdapterJob& j : jobs)
    if (j.seed == 0) curves.series.push_back(smoothed_losses(j));
  write_file_atomic(dir + "/training_curves.svg", svg::xy_plot(curves));
}

}  // namespace

std::string write_study_report(const StudyResults& R, const ReproduceOptions& o, const Preset& p,
                               const std::vector<AdapterJob>& jobs, const std::string& run_dir,
                               double seconds) {
  json record = results_json(R, o, p, jobs, seconds);
  std::string cut = cut_short_flags(record);
  std::string body = tables(R);
  fs::create_directories(run_dir);
  if (R.compositions) add_compositions(*R.compositions, body, record, run_dir);
  std::string md = fmt::format(
      "# lorasum reproduce — preset {}{}\n\n{}"
      "Figures are mean ± std over seeds. change % = (ppl_sum − ppl_merged) / ppl_merged × "
      "100.\n{}\nRun time: {:.0f} s.\n",
      p.name, cut.empty() ? "" : " (cut short)",
      run_settings_markdown(run_settings_lines(record), cut), body, seconds);
  write_file_atomic(run_dir + "/results.md", md);
  write_file_atomic(run_dir + "/results.csv", csv(R));
  write_file_atomic(run_dir + "/results.json", record.dump(2) + "\n");
  write_plots(R, record, jobs, run_dir + "/plots");
  std::string page = write_report_page(run_dir);
  return (cut.empty() ? "" : "\nCut short (" + cut + "): not a full run's figures.\n") + "\n" +
         body +
         fmt::format(
             "\nResults, adapters and plots: {}/ (results.md, results.csv, "
             "results.json, plots/*.svg); {:.0f} s.\nReport: {}\n",
             run_dir, seconds, page);
}

}  // namespace ls
