#include "experiments/study/predictors.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/app/settings.h"
#include "experiments/app/workspace.h"
#include "experiments/plots/charts.h"
#include "experiments/plots/grid.h"
#include "experiments/study/study.h"
#include "gpt2/checkpoint.h"
#include "lora/interference_probe.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/progress.h"

namespace ls {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// results.json of the run itself and of each configuration under ablation/, sorted.
std::vector<std::string> results_files(const std::string& run) {
  std::vector<std::string> out;
  if (fs::exists(run + "/results.json")) out.push_back(run + "/results.json");
  if (fs::is_directory(run + "/ablation"))
    for (const auto& entry : fs::directory_iterator(run + "/ablation"))
      if (fs::exists(entry.path() / "results.json"))
        out.push_back((entry.path() / "results.json").string());
  std::sort(out.begin(), out.end());
  if (out.empty())
    input_error("{}: no results.json (nor ablation/*/results.json): not a finished reproduce run",
                run);
  return out;
}

// A results.json, read once, and where it came from.
struct Results {
  std::string path;
  json j;
};

// The run's own folder `name` (base-model, data), or the fallback flag's value.
std::string run_part(const std::string& run, const std::string& name, const std::string& fallback,
                     const char* flag) {
  if (fs::is_directory(run + "/" + name)) return run + "/" + name;
  if (fallback.empty()) input_error("{}: no {}/ folder of its own; give {}", run, name, flag);
  return fallback;
}

// The run's base model: its own base-model/, else the folder results.json records (a run made
// with --model) while it still holds the same model, else --model.
std::string run_model(const std::string& run, const Results& results, const std::string& fallback) {
  if (fs::is_directory(run + "/base-model")) return run + "/base-model";
  json b = results.j.value("base_model", json());
  if (b.is_object() && b.contains("folder")) {
    std::string dir = b["folder"].get<std::string>();
    bool same = fs::is_directory(dir) && model_identity(dir) == b.value("identity", "");
    if (same) return dir;
    if (fallback.empty())
      input_error("{}: its base model {} {}; give --model", results.path, dir,
                  fs::is_directory(dir) ? "now holds another model than the run used" : "is gone");
  }
  return run_part(run, "base-model", fallback, "--model");
}

// An adapter folder as results.json records it, or at the same place under the run folder
// when the run has moved since.
std::string adapter_folder(const std::string& run, const std::string& recorded) {
  if (fs::is_directory(recorded)) return recorded;
  fs::path p(recorded);
  fs::path moved = fs::path(run) / p.parent_path().filename() / p.filename();
  if (fs::is_directory(moved)) return moved.string();
  input_error("{}: adapter folder {} not found (nor {})", run, recorded, moved.string());
}

std::map<std::string, double> predictor_values(GPT2& model, LoraAdapter& a, LoraAdapter& b,
                                               const ProbeData& da, const ProbeData& db) {
  PairInterference p = pair_interference(model, a, b, da, db);
  return {{"rms_cos", adapter_similarity(a, b).rms_cosine},
          {"cross_talk", p.cross_talk},
          {"activation_cos", p.activation_cosine},
          {"gradient_cos", p.gradient_cosine},
          {"xi", p.xi_mean()},
          {"norm_product", p.norms.product},
          {"norm_ratio", p.norms.ratio},
          {"relative_norm", (p.relative_norm_a + p.relative_norm_b) / 2}};
}

// A run's model and each domain's first test examples, loaded once for all its configurations.
struct RunInputs {
  std::unique_ptr<GPT2> model;
  std::map<std::string, std::vector<Example>> data;
  RunInputs(const std::string& run, const Results& results, const PredictorOptions& o) {
    std::string model_dir = run_model(run, results, o.model_dir);
    std::string data_dir = run_part(run, "data", o.data_dir, "--data");
    model = load_gpt2(model_dir);
    Tokenizer tok = load_tokenizer(model_dir);
    for (const std::string& d : study_domains()) {
      auto ex = load_qa_jsonl(fmt::format("{}/{}/test.jsonl", data_dir, d), tok);
      if (o.data_limit > 0 && static_cast<int64_t>(ex.size()) > o.data_limit)
        ex.resize(static_cast<size_t>(o.data_limit));
      data[d] = std::move(ex);
    }
  }
};

// The rows a results.json yields: one per pair and seed.
int64_t row_count(const Results& results) {
  int64_t n = 0;
  for (const json& pair : results.j.at("pairs")) n += pair.at("per_seed").at("change_pct").size();
  return n;
}

void add_rows(const std::string& run, const Results& results, RunInputs& in,
              std::vector<PredictorRow>& rows, ProgressBar& bar) {
  const json& j = results.j;
  const std::string& results_path = results.path;
  auto names = j.at("study_choices").get<std::vector<std::string>>();
  StudyChoices choices = StudyChoices::parse(fmt::format("{}", fmt::join(names, ",")),
                                             results_path + ": study_choices");
  std::map<std::string, std::string> folders;
  int64_t seq_len = 0;  // the adapters' training length, which evaluation also cuts to
  for (const json& job : j.at("jobs")) {
    folders[job.at("name").get<std::string>()] = job.at("folder").get<std::string>();
    seq_len = job.at("seq_len").get<int64_t>();
  }
  auto probe = [&](const std::string& d) { return ProbeData{in.data.at(d), 8, seq_len}; };
  for (const json& pair : j.at("pairs")) {
    auto domains = pair.at("domains").get<std::vector<std::string>>();
    auto changes = pair.at("per_seed").at("change_pct").get<std::vector<double>>();
    for (size_t s = 0; s < changes.size(); ++s) {
      std::shared_ptr<LoraAdapter> a[2];
      for (int k = 0; k < 2; ++k) {
        std::string name = fmt::format("seed{}/{}", s, domains[k]);
        if (!folders.count(name)) input_error("{}: no job {}", results_path, name);
        a[k] = LoraAdapter::load(adapter_folder(run, folders[name]), *in.model);
        apply_eval_choices(*a[k], choices, /*from_multiply_out=*/true);
      }
      rows.push_back(
          {run, choices.label(), domains_label(domains), static_cast<int>(s),
           choices.has(StudyChoice::shared_init), changes[s],
           predictor_values(*in.model, *a[0], *a[1], probe(domains[0]), probe(domains[1]))});
      bar.update(static_cast<int64_t>(rows.size()), domains_label(domains));
    }
  }
}

}  // namespace

const std::vector<std::string>& predictor_names() {
  static const std::vector<std::string> names = {"rms_cos",      "cross_talk",   "activation_cos",
                                                 "gradient_cos", "xi",           "norm_product",
                                                 "norm_ratio",   "relative_norm"};
  return names;
}

std::vector<PredictorRow> collect_predictor_rows(const std::vector<std::string>& runs,
                                                 const PredictorOptions& options) {
  std::vector<std::vector<Results>> files;  // per run
  int64_t total = 0;
  for (const std::string& run : runs) {
    files.emplace_back();
    for (const std::string& path : results_files(run)) {
      files.back().push_back({path, json::parse(read_file(path))});
      total += row_count(files.back().back());
    }
  }
  ProgressBar bar("predictors: pairs", total, options.progress);
  std::vector<PredictorRow> rows;
  for (size_t r = 0; r < runs.size(); ++r) {
    RunInputs in(runs[r], files[r].front(), options);
    for (const Results& file : files[r]) add_rows(runs[r], file, in, rows, bar);
  }
  bar.finish(fmt::format("{} rows", rows.size()));
  return rows;
}

namespace {

const char* kSubsets[] = {"all", "independent", "shared"};

bool in_subset(const PredictorRow& r, const std::string& subset) {
  return subset == "all" || (subset == "shared") == r.shared_init;
}

// "0.42 [0.11, 0.70]"
std::string with_interval(const Estimate& e) {
  if (std::isnan(e.value)) return "–";
  if (std::isnan(e.lo)) return fmt::format("{:+.2f}", e.value);
  return fmt::format("{:+.2f} [{:+.2f}, {:+.2f}]", e.value, e.lo, e.hi);
}

json estimate_json(const Estimate& e) { return {{"value", e.value}, {"lo", e.lo}, {"hi", e.hi}}; }

std::string csv_text(const std::vector<PredictorRow>& rows) {
  std::string out = fmt::format("run,configuration,shared_init,pair,seed,change_pct,{}\n",
                                fmt::join(predictor_names(), ","));
  for (const PredictorRow& r : rows) {
    out += fmt::format("\"{}\",\"{}\",{},{},{},{:.4f}", r.run, r.configuration, r.shared_init,
                       r.pair, r.seed, r.change_pct);
    for (const std::string& p : predictor_names()) out += fmt::format(",{:.6g}", r.values.at(p));
    out += "\n";
  }
  return out;
}

std::string markdown(const std::vector<PredictorRow>& rows,
                     const std::vector<PredictorCorrelation>& cs) {
  std::string out = fmt::format(
      "# Which measure predicts the naive sum's perplexity change?\n\n{} rows (pair × seed × "
      "configuration). Each predictor against change %: Pearson r and Spearman ρ with "
      "percentile bootstrap 95 % intervals (1000 resamples of the rows); `independent` rows "
      "come from configurations without `shared-init`, `shared` from those with it.\n\n"
      "| predictor | subset | rows | Pearson r [95 % CI] | Spearman ρ [95 % CI] |\n"
      "|---|---|---|---|---|\n",
      rows.size());
  for (const PredictorCorrelation& c : cs)
    out += fmt::format("| {} | {} | {} | {} | {} |\n", c.predictor, c.subset, c.rows,
                       with_interval(c.pearson), with_interval(c.spearman));
  out +=
      "\nPredictors: rms_cos, the RMS over modules of the weight-delta cosines (the study's); "
      "cross_talk, E‖ΔW_j h‖²/E‖ΔW_i h‖² on domain i's module inputs; activation_cos, "
      "cos(ΔW_i h, ΔW_j h) (RMS); gradient_cos, the two domains' loss gradients at the base; xi, "
      "mean KL(single ‖ sum) on each domain; norm_product, norm_ratio: ‖ΔW_i‖·‖ΔW_j‖ and the "
      "ratio of the norms; relative_norm, ‖ΔW‖/‖W‖ (RMS over modules, mean of the two).\n";
  return out;
}

std::string scatter_grid(const std::vector<PredictorRow>& rows,
                         const std::vector<PredictorCorrelation>& cs) {
  std::vector<std::string> charts;
  for (const std::string& p : predictor_names()) {
    svg::XYPlot plot;
    plot.title = p;
    for (const PredictorCorrelation& c : cs)
      if (c.predictor == p && c.subset == "all")
        plot.subtitle = fmt::format("Pearson {}, Spearman {} ({} rows)", with_interval(c.pearson),
                                    with_interval(c.spearman), c.rows);
    plot.x_label = p;
    plot.y_label = "change % of the naive sum";
    svg::XYSeries independent, shared;
    independent.name = "independent init";
    shared.name = "shared init";
    for (const PredictorRow& r : rows)
      (r.shared_init ? shared : independent)
          .points.push_back({r.values.at(p), r.change_pct, NAN,
                             r.shared_init ? svg::Marker::square : svg::Marker::circle,
                             fmt::format("{}: {} {:.4g}, change {:.2f} %", r.pair, p,
                                         r.values.at(p), r.change_pct)});
    for (svg::XYSeries* s : {&independent, &shared})
      if (!s->points.empty()) plot.series.push_back(*s);
    charts.push_back(svg::xy_plot(plot));
  }
  return svg::grid(charts, 4, 480, 320);
}

}  // namespace

std::vector<PredictorCorrelation> predictor_correlations(const std::vector<PredictorRow>& rows) {
  std::vector<PredictorCorrelation> out;
  for (const std::string& p : predictor_names())
    for (const char* subset : kSubsets) {
      std::vector<double> x, y;
      for (const PredictorRow& r : rows)
        if (in_subset(r, subset) && std::isfinite(r.values.at(p))) {
          x.push_back(r.values.at(p));
          y.push_back(r.change_pct);
        }
      out.push_back({p, subset, static_cast<int>(x.size()), bootstrap(pearson, x, y, 1000, 1),
                     bootstrap(spearman, x, y, 1000, 2)});
    }
  return out;
}

std::string write_predictor_report(const std::vector<PredictorRow>& rows,
                                   const std::string& out_dir) {
  std::vector<PredictorCorrelation> cs = predictor_correlations(rows);
  json j = {
      {"predictors", predictor_names()}, {"rows", json::array()}, {"correlations", json::array()}};
  for (const PredictorRow& r : rows)
    j["rows"].push_back({{"run", r.run},
                         {"configuration", r.configuration},
                         {"shared_init", r.shared_init},
                         {"pair", r.pair},
                         {"seed", r.seed},
                         {"change_pct", r.change_pct},
                         {"values", r.values}});
  for (const PredictorCorrelation& c : cs)
    j["correlations"].push_back({{"predictor", c.predictor},
                                 {"subset", c.subset},
                                 {"rows", c.rows},
                                 {"pearson", estimate_json(c.pearson)},
                                 {"spearman", estimate_json(c.spearman)}});
  std::string md = markdown(rows, cs);
  fs::create_directories(out_dir + "/plots");
  write_file_atomic(out_dir + "/predictors.md", md);
  write_file_atomic(out_dir + "/predictors.csv", csv_text(rows));
  write_file_atomic(out_dir + "/predictors.json", j.dump(2) + "\n");
  write_file_atomic(out_dir + "/plots/predictors.svg", scatter_grid(rows, cs));
  return md;
}

}  // namespace ls
