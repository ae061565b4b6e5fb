#include "experiments/study/scale_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "experiments/app/settings.h"
#include "experiments/study/figures.h"
#include "experiments/study/report_page.h"
#include "experiments/study/run_settings.h"
#include "experiments/study/study.h"
#include "gpt2/config.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/output_folder.h"

namespace ls {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct MeanStd {
  double mean = NAN, std = NAN;
};

// What the scale report takes from one run's results.json.
struct RunFigures {
  std::string dir, preset;
  int seeds = 0;
  double parameters = 0, block_parameters = 0;
  std::map<std::string, MeanStd> change, cos;  // by pair label
  MeanStd triple, random_cos;                  // random_cos: random adapters of the run's shapes
  double fit_r = NAN;
  json protocol;  // everything but the base model that made the figures; see protocol()
  std::vector<std::pair<std::string, std::string>> settings;  // run_settings_lines
  std::string cut_short;                                      // cut_short_flags
};

// A number at `key` of `j`, or InputError naming the file and the key.
double number(const json& j, const char* key, const std::string& path) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number())
    input_error("{}: expected a number at \"{}\" (is it a results.json of lorasum reproduce?)",
                path, key);
  return j[key].get<double>();
}

MeanStd mean_std(const json& j, const char* key, const std::string& path) {
  if (!j.contains("std")) input_error("{}: a result without its \"std\"", path);
  return {number(j, key, path), number(j["std"], key, path)};
}

// The base model's size: recorded in results.json, or read from the run's base-model/.
void read_size(const json& j, const std::string& dir, const std::string& path, RunFigures& r) {
  if (j.contains("base_model") && j["base_model"].is_object()) {
    r.parameters = number(j["base_model"], "parameters", path);
    r.block_parameters = number(j["base_model"], "block_parameters", path);
    return;
  }
  std::string config = dir + "/base-model/config.json";
  if (!fs::exists(config))
    input_error(
        "{} records no base-model size and {} is missing: "
        "rerun lorasum reproduce on the run folder to refresh its results",
        path, config);
  GPT2Config c = GPT2Config::load(config);
  r.parameters = c.parameter_count();
  r.block_parameters = c.block_parameter_count();
}

// The data a run's jobs trained on and were scored on: recorded in results.json, or (a
// results.json without that record) the digests of the run's own data/ files, or null when
// unknown.
json data_record(const json& j, const std::string& dir) {
  if (j.contains("data")) return j["data"];
  if (!fs::exists(dir + "/data")) return nullptr;
  return data_file_digests(dir + "/data");
}

// What must agree between runs for their differences to be the base model's alone: the data,
// the adapters' shape, the study's choices and hyperparameters, the cut-short limits, and the
// training settings of each combination's jobs (less their names, folders and seeds, which
// differ from seed to seed), so that a difference is named down to the setting.
json protocol(const json& j, const std::string& dir) {
  json p = {{"data", data_record(j, dir)}};
  for (const char* key : {"hparams", "lora", "study_choices", "only", "max_steps", "eval_limit"})
    p[key] = j.contains(key) ? j[key] : json(nullptr);
  p["training"] = json::object();
  for (json job : j.value("jobs", json::array())) {
    std::string name = job.value("name", "");  // "seed0/math+finance"
    for (const char* key : {"name", "folder", "seed", "init_seed"}) job.erase(key);
    p["training"][name.substr(name.find('/') + 1)] = job;
  }
  return p;
}

// The combinations whose jobs `a` trained and `b` did not, taken out of `a`'s training record:
// a run of --only lacks most of them, and one line says so better than a line per setting.
std::vector<std::string> take_unshared(json& a, const json& b) {
  std::vector<std::string> combinations;
  for (const auto& [combination, job] : a["training"].items())
    if (!b["training"].contains(combination)) combinations.push_back(combination);
  for (const std::string& c : combinations) a["training"].erase(c);
  return combinations;
}

// "key: A has x, B has y" for each setting in which a run differs from the first (smallest),
// and "training: only A trained x, y" for the jobs one of the two ran alone.
std::vector<std::string> differences(const std::vector<RunFigures>& runs) {
  auto brief = [](const std::optional<json>& v) {
    std::string text = v ? v->dump() : "nothing";
    return text.size() > 80 ? text.substr(0, 77) + "..." : text;
  };
  std::vector<std::string> lines;
  for (size_t i = 1; i < runs.size(); ++i) {
    json a = runs[0].protocol, b = runs[i].protocol;
    std::vector<std::string> only_a = take_unshared(a, b), only_b = take_unshared(b, a);
    for (const LeafDifference& d : leaf_differences(a, b))
      lines.push_back(fmt::format("{}: {} has {}, {} has {}", d.key, runs[0].dir, brief(d.a),
                                  runs[i].dir, brief(d.b)));
    for (const auto& [dir, only] : {std::pair{runs[0].dir, only_a}, std::pair{runs[i].dir, only_b}})
      if (!only.empty())
        lines.push_back(fmt::format("training: only {} trained {}", dir, fmt::join(only, ", ")));
  }
  return lines;
}

RunFigures read_run(const std::string& dir) {
  std::string path = dir + "/results.json";
  if (!fs::exists(path))
    input_error("{}: no results.json (a finished reproduce run is expected)", dir);
  json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("pairs") || !j["pairs"].is_array())
    input_error("{}: not a results.json of lorasum reproduce", path);
  RunFigures r;
  r.dir = dir;
  r.preset = j.value("preset", "");
  r.seeds = j.value("seeds", 0);
  read_size(j, dir, path, r);
  for (const json& p : j["pairs"]) {
    if (!p.contains("domains") || !p["domains"].is_array())
      input_error("{}: a pair without its domains", path);
    std::string label = domains_label(p["domains"].get<std::vector<std::string>>());
    r.change[label] = mean_std(p, "change_pct", path);
    r.cos[label] = mean_std(p, "rms_cos", path);
  }
  if (j.contains("triple") && j["triple"].is_object())
    r.triple = mean_std(j["triple"], "change_pct", path);
  if (j.contains("fit") && j["fit"].is_object()) r.fit_r = number(j["fit"], "pearson_r", path);
  if (j.contains("random_baseline_rms_cos") && j["random_baseline_rms_cos"].is_object())
    r.random_cos = {number(j["random_baseline_rms_cos"], "mean", path),
                    number(j["random_baseline_rms_cos"], "std", path)};
  r.protocol = protocol(j, dir);
  r.settings = run_settings_lines(j);
  r.cut_short = cut_short_flags(j);
  return r;
}

// "mean ± std", or the mean alone from a single seed (whose std of 0 would claim a precision).
std::string pm(const MeanStd& v, int seeds, const char* mean_format, const char* std_format) {
  if (std::isnan(v.mean)) return "—";
  return mean_pm(v.mean, seeds == 1 ? NAN : v.std, mean_format, std_format);
}

std::string millions(double n) { return fmt::format("{:.2f} M", n / 1e6); }

std::vector<std::string> pair_labels() {
  const auto& d = study_domains();
  return {domains_label({d[0], d[1]}), domains_label({d[0], d[2]}), domains_label({d[1], d[2]})};
}

std::string table(const std::vector<RunFigures>& runs, double study_parameters) {
  std::string out = "| run | preset | seeds | parameters | in blocks |";
  for (const std::string& p : pair_labels()) out += fmt::format(" {} change % | RMS cos |", p);
  out += " all three change % | fit r |\n|---|---|---|---|---|";
  for (size_t i = 0; i < pair_labels().size(); ++i) out += "---|---|";
  out += "---|---|\n";
  for (const RunFigures& r : runs) {
    out += fmt::format("| {} | {} | {} | {} | {} |", r.dir, r.preset, r.seeds,
                       millions(r.parameters), millions(r.block_parameters));
    for (const std::string& p : pair_labels()) {
      bool has = r.change.count(p) != 0;
      out += fmt::format(" {} | {} |", has ? pm(r.change.at(p), r.seeds, "{:+.1f}", "{:.1f}") : "—",
                         has ? pm(r.cos.at(p), r.seeds, "{:.4f}", "{:.4f}") : "—");
    }
    out += fmt::format(" {} | {} |\n", pm(r.triple, r.seeds, "{:+.1f}", "{:.1f}"),
                       std::isnan(r.fit_r) ? "n/a" : fmt::format("{:.2f}", r.fit_r));
  }
  out +=
      fmt::format("| the study (one run) | gpt2-small | 1 | {} | {} |", millions(study_parameters),
                  millions(GPT2Config::preset("gpt2").block_parameter_count()));
  for (const std::string& p : pair_labels())
    out += fmt::format(" {:+.2f} | — |", published_change().at(p));
  return out + " — | — |\n";
}

json run_json(const RunFigures& r) {
  json pairs;
  for (const auto& [label, c] : r.change)
    pairs[label] = {{"change_pct", c.mean},
                    {"change_pct_std", c.std},
                    {"rms_cos", r.cos.at(label).mean},
                    {"rms_cos_std", r.cos.at(label).std}};
  auto or_null = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  return {{"run", r.dir},
          {"preset", r.preset},
          {"seeds", r.seeds},
          {"parameters", r.parameters},
          {"block_parameters", r.block_parameters},
          {"pairs", pairs},
          {"triple_change_pct", or_null(r.triple.mean)},
          {"triple_change_pct_std", or_null(r.triple.std)},
          {"fit_pearson_r", or_null(r.fit_r)},
          {"random_rms_cos", or_null(r.random_cos.mean)},
          {"random_rms_cos_std", or_null(r.random_cos.std)}};
}

// The settings the runs share: the first run's, less the preset and base model, which each run
// has its own of (--allow-mixed lists any other difference); the cut-short mark if any run is.
std::string settings_head(const std::vector<RunFigures>& runs) {
  std::vector<std::pair<std::string, std::string>> shared;
  for (const auto& line : runs.front().settings)
    if (line.first != "preset" && line.first != "base model") shared.push_back(line);
  std::string cut;
  for (const RunFigures& r : runs)
    if (cut.empty() && !r.cut_short.empty()) cut = r.dir + ": " + r.cut_short;
  return run_settings_markdown(shared, cut);
}

// Each run once, and the output outside every run: a report written into a run's folder would
// mix with (and could replace) what the run wrote.
void check_folders(const std::vector<std::string>& run_dirs, const std::string& out) {
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    for (size_t k = 0; k < i; ++k)
      if (same_path(run_dirs[k], run_dirs[i]))
        input_error("report: --runs {} is given twice (as {} and {})", run_dirs[i], run_dirs[k],
                    run_dirs[i]);
    if (is_within(out, run_dirs[i]))
      input_error("report: --out {} is inside the run {}; write the report outside every run", out,
                  run_dirs[i]);
  }
}

}  // namespace

std::string write_scale_report(const std::vector<std::string>& run_dirs, const std::string& out,
                               bool allow_mixed) {
  if (run_dirs.empty()) input_error("report: give at least one --runs folder");
  std::vector<RunFigures> runs;
  for (const std::string& dir : run_dirs) runs.push_back(read_run(dir));
  check_folders(run_dirs, out);
  std::stable_sort(runs.begin(), runs.end(), [](const RunFigures& a, const RunFigures& b) {
    return a.parameters < b.parameters;
  });
  std::vector<std::string> mixed = differences(runs);
  if (!mixed.empty() && !allow_mixed)
    input_error(
        "report: the runs differ in more than their base models, so their figures would not "
        "show the effect of size alone:\n  {}\n(--allow-mixed writes the report anyway and "
        "lists these differences in it)",
        fmt::join(mixed, "\n  "));
  double study_parameters = GPT2Config::preset("gpt2").parameter_count();
  std::string md = table(runs, study_parameters);
  if (!mixed.empty())
    md += "\nThe runs differ in more than their base models (--allow-mixed):\n\n- " +
          fmt::format("{}", fmt::join(mixed, "\n- ")) + "\n";
  json j = {{"runs", json::array()},
            {"differences", mixed},
            {"study", {{"parameters", study_parameters}, {"change_pct", published_change()}}}};
  for (const RunFigures& r : runs) j["runs"].push_back(run_json(r));
  fs::create_directories(out + "/plots");
  write_file_atomic(out + "/scale.md", "# Change % and RMS cosine against base-model size\n\n" +
                                           settings_head(runs) +
                                           "Mean ± std over each run's seeds.\n\n" + md);
  write_file_atomic(out + "/scale.json", j.dump(2) + "\n");
  write_file_atomic(out + "/plots/scale.svg", scale_svg(j, false));
  write_file_atomic(out + "/plots/scale_cos.svg", scale_svg(j, true));
  write_report_page(out);
  return md;
}

}  // namespace ls
