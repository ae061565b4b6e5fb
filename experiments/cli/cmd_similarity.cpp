// lorasum similarity: how much adapters overlap, as the cosine of their weight deltas.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/similarity_data.h"
#include "experiments/plots/svg.h"
#include "lora/similarity.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls::cli {

namespace {

using svg::format_value;

struct Results {
  std::vector<AdapterFactors> adapters;
  std::vector<std::vector<SimilarityReport>> reports;  // [i][j], symmetric
  std::vector<std::vector<Baseline>> baselines;        // [i][j] for i < j
};

Results measure(const std::vector<std::string>& dirs, int trials, uint64_t seed) {
  Results r;
  for (const std::string& dir : dirs) r.adapters.push_back(AdapterFactors::read(dir));
  size_t n = r.adapters.size();
  r.reports.assign(n, std::vector<SimilarityReport>(n));
  r.baselines.assign(n, std::vector<Baseline>(n));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) {
      r.reports[i][j] = r.reports[j][i] = adapter_similarity(r.adapters[i], r.adapters[j]);
      if (j > i) r.baselines[i][j] = random_baseline(r.adapters[i], r.adapters[j], trials, seed);
    }
  return r;
}

// The folder's own name, for titles.
std::string short_name(const std::string& dir) {
  std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  return name.empty() ? dir : name;
}

// Per-module cosines laid out as layers (rows) × module kinds (columns); NaN where absent.
svg::Heatmap module_grid(const SimilarityReport& report) {
  CosineGrid g = cosine_grid(report);
  svg::Heatmap grid;
  grid.rows = g.layers;
  grid.columns = g.kinds;
  grid.values = g.cosines;
  return grid;
}

void print_text(const Results& r) {
  size_t n = r.adapters.size();
  fmt::print("adapters\n");
  for (size_t i = 0; i < n; ++i) {
    const AdapterFactors& a = r.adapters[i];
    fmt::print("  [{}] {}  (r={}, alpha={:g}{}, {} modules)\n", i + 1, a.name, a.config.r,
               a.config.alpha, a.config.use_rslora ? ", rsLoRA" : "", a.modules.size());
  }
  fmt::print(
      "\nRMS cosine of the weight deltas ΔW = s·BA over shared modules "
      "(the default metric)\n{:6}",
      "");
  for (size_t j = 0; j < n; ++j) fmt::print("{:>10}", fmt::format("[{}]", j + 1));
  for (size_t i = 0; i < n; ++i) {
    fmt::print("\n{:6}", fmt::format("[{}]", i + 1));
    for (size_t j = 0; j < n; ++j) fmt::print("{:>10}", format_value(r.reports[i][j].rms_cosine));
  }
  fmt::print("\n");
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const SimilarityReport& s = r.reports[i][j];
      const Baseline& b = r.baselines[i][j];
      fmt::print("\n[{}] vs [{}]: {} shared modules\n", i + 1, j + 1, s.modules.size());
      fmt::print("  {:<28}{:<12}", "RMS cosine (ΔW, default)", format_value(s.rms_cosine));
      if (b.trials > 0)
        fmt::print("random adapters of these shapes: {} ± {} ({} trials; theory {})",
                   format_value(b.rms_mean), format_value(b.rms_std), b.trials,
                   format_value(b.analytic_rms));
      fmt::print("\n  {:<28}{}\n", "mean |cosine| (ΔW)", format_value(s.mean_abs_cosine));
      fmt::print("  {:<28}{:<12}at {}\n", "max |cosine| (ΔW)", format_value(s.max_abs_cosine),
                 s.max_module);
      fmt::print("  {:<28}{}\n", "cosine of flattened ΔW", format_value(s.flat_delta_cosine));
      fmt::print("  {:<28}{:<12}A alone {}, B alone {}\n", "cosine of raw A,B params",
                 format_value(s.param_cosine), format_value(s.param_cosine_A),
                 format_value(s.param_cosine_B));
      svg::Heatmap grid = module_grid(s);
      fmt::print("  per-module cosine of ΔW:\n    {:<7}", "layer");
      for (const std::string& c : grid.columns) fmt::print("{:>14}", c);
      for (size_t row = 0; row < grid.rows.size(); ++row) {
        fmt::print("\n    {:<7}", grid.rows[row]);
        for (double v : grid.values[row]) fmt::print("{:>14}", format_value(v));
      }
      fmt::print("\n");
    }
}

nlohmann::json to_json(const Results& r) {
  using nlohmann::json;
  size_t n = r.adapters.size();
  json out = {{"metric", "rms_cosine"}, {"adapters", json::array()}, {"pairs", json::array()}};
  for (const AdapterFactors& a : r.adapters) out["adapters"].push_back(a.name);
  const std::pair<const char*, double SimilarityReport::*> summaries[] = {
      {"rms_cosine", &SimilarityReport::rms_cosine},
      {"mean_abs_cosine", &SimilarityReport::mean_abs_cosine},
      {"max_abs_cosine", &SimilarityReport::max_abs_cosine},
      {"flat_delta_cosine", &SimilarityReport::flat_delta_cosine},
      {"param_cosine", &SimilarityReport::param_cosine},
      {"param_cosine_A", &SimilarityReport::param_cosine_A},
      {"param_cosine_B", &SimilarityReport::param_cosine_B}};
  for (auto [key, field] : summaries) {
    json matrix = json::array();
    for (size_t i = 0; i < n; ++i) {
      matrix.push_back(json::array());
      for (size_t j = 0; j < n; ++j) matrix.back().push_back(r.reports[i][j].*field);
    }
    out["matrix"][key] = matrix;  // NaN becomes null
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const SimilarityReport& s = r.reports[i][j];
      const Baseline& b = r.baselines[i][j];
      json pair = {{"a", i},
                   {"b", j},
                   {"max_module", s.max_module},
                   {"baseline",
                    {{"trials", b.trials},
                     {"rms_mean", b.rms_mean},
                     {"rms_std", b.rms_std},
                     {"analytic_rms", b.analytic_rms}}}};
      for (auto [key, field] : summaries) pair[key] = s.*field;
      for (const ModuleCosine& m : s.modules)
        pair["modules"].push_back({{"module", m.module},
                                   {"cosine", m.cosine},
                                   {"norm_a", m.norm_a},
                                   {"norm_b", m.norm_b}});
      out["pairs"].push_back(pair);
    }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_csv(const Results& r, const std::string& path) {
  std::string text = "adapter_a,adapter_b,module,layer,kind,cosine,norm_a,norm_b\n";
  for (size_t i = 0; i < r.adapters.size(); ++i)
    for (size_t j = i + 1; j < r.adapters.size(); ++j)
      for (const ModuleCosine& m : r.reports[i][j].modules) {
        ModulePlace place = module_place(m.module);
        text += fmt::format("{},{},{},{},{},{:.9g},{:.9g},{:.9g}\n", csv_field(r.adapters[i].name),
                            csv_field(r.adapters[j].name), m.module, place.layer, place.kind,
                            m.cosine, m.norm_a, m.norm_b);
      }
  write_file_atomic(path, text);
}

void write_svg(const Results& r, const std::string& path) {
  const SimilarityReport& s = r.reports[0][1];
  svg::Heatmap h = module_grid(s);
  std::string a = short_name(r.adapters[0].name), b = short_name(r.adapters[1].name);
  h.title = fmt::format("Cosine similarity of LoRA weight deltas: {} vs {}", a, b);
  h.subtitle =
      fmt::format("RMS cosine over {} modules: {}", s.modules.size(), format_value(s.rms_cosine));
  if (r.baselines[0][1].trials > 0)
    h.subtitle += fmt::format("   (random adapters of these shapes: {})",
                              format_value(r.baselines[0][1].rms_mean));
  h.x_label = "module";
  h.y_label = "layer";
  h.value_label = "cosine of ΔW";
  write_file_atomic(path, svg::heatmap(h));
}

const char* kMetrics =
    R"(Metrics, for each pair over the modules both adapters target (ΔW = s·BA, s = alpha/r):
  RMS cosine (default)  √(mean over modules of cos²), cos = ⟨ΔW₁, ΔW₂⟩_F / (‖ΔW₁‖_F ‖ΔW₂‖_F)
  mean |cos|, max |cos| over the same modules
  flattened ΔW          the cosine of all modules' deltas concatenated into one vector
  raw A,B params        the cosine of the stored A and B tensors, flattened (needs equal ranks)
The study does not say which cosine it used; the raw-parameter one depends on how A was
initialised, so the delta-based RMS cosine is the default. The baseline is the RMS cosine of
random Gaussian adapters with the same shapes and ranks: what "nearly orthogonal" means here.
With --data DIR (and --model), each adapter runs on DIR/<its domain>/test.jsonl at the base
model, and each pair also gets the data-aware measures:
  cross-talk            per module, E‖ΔW_j h‖² / E‖ΔW_i h‖² over the inputs h the base model
                        feeds it on domain i; mean over modules and both directions
  activation cosine     cos(ΔW_i h, ΔW_j h) over the same inputs; RMS over modules and directions
  gradient cosine       the two domains' loss gradients w.r.t. the adapted weights, at the base
  ξ                     mean over domain i's tokens of KL(p with adapter i ‖ p with both)
  ‖ΔW₁‖·‖ΔW₂‖, ratio    the norm-only baseline a data-aware measure has to beat
and each adapter its ‖ΔW‖_F / ‖W‖_F per module, RMS over modules.)";

}  // namespace

void add_similarity(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "similarity",
      "Cosine similarity of adapters' weight deltas ΔW = s·BA, from the factors: per module "
      "(layer × module), RMS over modules (the default metric), mean and max |cos|, the cosine "
      "of the raw A,B parameters, an N×N matrix, and a random-adapter baseline");
  cmd->footer(kMetrics);
  static std::vector<std::string> adapters;
  static std::string csv, svg_path;
  static bool json = false;
  static int trials = 16;
  static uint64_t seed = 0;
  static DataAwareFlags data;
  cmd->add_option("--adapter", adapters, "PEFT adapter folder; give two or more")->required();
  cmd->add_flag("--json", json, "Print one JSON object instead of text (NaN as null)");
  cmd->add_option("--csv", csv, "Also write the per-module cosines of every pair to this CSV file")
      ->check(kInExistingFolder);
  cmd->add_option("--svg", svg_path,
                  "Also write a layer × module heatmap of the first two adapters");
  cmd->add_option("--baseline-trials", trials, "Random adapter pairs for the baseline (0 = none)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--seed", seed, "Seed of the random baseline")->capture_default_str();
  cmd->add_option("--data", data.data_dir,
                  "QA data folder: also the data-aware measures, each adapter on "
                  "<data>/<its folder name>/test.jsonl (needs --model)");
  cmd->add_option("--model", data.model_dir, "The adapters' base model (with --data)");
  cmd->add_option("--domains", data.domains,
                  "With --data: each adapter's domain, comma-separated (default: the adapter "
                  "folders' names)")
      ->delimiter(',');
  cmd->add_option("--data-limit", data.limit, "With --data: examples per domain (0 = all)")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->callback([cmd] {
    if (adapters.size() < 2) input_error("similarity needs at least two --adapter folders");
    if ((cmd->count("--model") || cmd->count("--domains")) && data.data_dir.empty())
      input_error("--model and --domains go with --data");
    Results r = measure(adapters, trials, seed);
    DataAware d;
    if (!data.data_dir.empty()) d = measure_data_aware(adapters, data);
    if (json) {
      nlohmann::json out = to_json(r);
      if (!data.data_dir.empty()) add_data_aware_json(d, out);
      fmt::print("{}\n", out.dump(1));
    } else {
      print_text(r);
      if (!data.data_dir.empty()) print_data_aware(d);
    }
    if (!csv.empty()) write_csv(r, csv);
    if (!svg_path.empty()) write_svg(r, svg_path);
  });
}

}  // namespace ls::cli
