#include "experiments/study/scale_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "experiments/app/settings.h"
#include "experiments/study/correlation.h"
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

// GPT-2 Small's pretraining dose, where the study's figures are drawn on a dose axis: OpenAI
// published no token count, so this is an order-of-magnitude estimate.
constexpr double kGpt2TokensPerParameter = 100;

struct MeanStd {
  double mean = NAN, std = NAN;
};

// What the scale report takes from one run's results.json.
struct RunFigures {
  std::string dir, preset;
  int seeds = 0;
  double parameters = 0, block_parameters = 0;
  double tokens_per_parameter = NAN, base_valid_loss = NAN;  // the base's pretraining, if known
  std::map<std::string, MeanStd> change, cos, xi;            // by pair label
  MeanStd triple, triple_xi, random_cos;  // random_cos: random adapters of the run's shapes
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

// {"mean": m, "std": s}
MeanStd mean_std_of(const json& j, const std::string& path) {
  return {number(j, "mean", path), number(j, "std", path)};
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

// The base model's pretraining dose, when its results.json records one (a base pretrained by
// lorasum pretrain; a base from elsewhere, such as GPT-2, has none).
void read_dose(const json& j, const std::string& path, RunFigures& r) {
  if (!j.contains("base_model") || !j["base_model"].contains("pretraining")) return;
  const json& p = j["base_model"]["pretraining"];
  r.tokens_per_parameter = number(p, "tokens_per_parameter", path);
  r.base_valid_loss = number(p, "valid_loss", path);
}

// ξ of each pair and of the triple, from the compositions table of a run that has one.
void read_xi(const json& j, const std::string& path, RunFigures& r) {
  if (!j.contains("compositions") || !j["compositions"].is_object()) return;
  for (const json& c : j["compositions"].value("combinations", json::array())) {
    if (!c.contains("domains") || !c["domains"].is_array() || !c.contains("xi_mean"))
      input_error("{}: a composition without its domains or xi_mean", path);
    auto domains = c["domains"].get<std::vector<std::string>>();
    MeanStd xi = mean_std_of(c["xi_mean"], path);
    if (domains.size() == 3)
      r.triple_xi = xi;
    else
      r.xi[domains_label(domains)] = xi;
  }
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
  read_dose(j, path, r);
  read_xi(j, path, r);
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
    r.random_cos = mean_std_of(j["random_baseline_rms_cos"], path);
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

std::string dose_text(double tokens_per_parameter) {
  return std::isnan(tokens_per_parameter) ? "—" : fmt::format("{:.3g}", tokens_per_parameter);
}

std::vector<std::string> pair_labels() {
  const auto& d = study_domains();
  return {domains_label({d[0], d[1]}), domains_label({d[0], d[2]}), domains_label({d[1], d[2]})};
}

std::string table(const std::vector<RunFigures>& runs, double study_parameters) {
  std::string out = "| run | preset | seeds | parameters | in blocks | tokens/param |";
  for (const std::string& p : pair_labels()) out += fmt::format(" {} change % | RMS cos |", p);
  out += " all three change % | fit r |\n|---|---|---|---|---|---|";
  for (size_t i = 0; i < pair_labels().size(); ++i) out += "---|---|";
  out += "---|---|\n";
  for (const RunFigures& r : runs) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |", r.dir, r.preset, r.seeds,
                       millions(r.parameters), millions(r.block_parameters),
                       dose_text(r.tokens_per_parameter));
    for (const std::string& p : pair_labels()) {
      bool has = r.change.count(p) != 0;
      out += fmt::format(" {} | {} |", has ? pm(r.change.at(p), r.seeds, "{:+.1f}", "{:.1f}") : "—",
                         has ? pm(r.cos.at(p), r.seeds, "{:.4f}", "{:.4f}") : "—");
    }
    out += fmt::format(" {} | {} |\n", pm(r.triple, r.seeds, "{:+.1f}", "{:.1f}"),
                       std::isnan(r.fit_r) ? "n/a" : fmt::format("{:.2f}", r.fit_r));
  }
  out += fmt::format(
      "| the study (one run) | gpt2-small | 1 | {} | {} | ~{:g} |", millions(study_parameters),
      millions(GPT2Config::preset("gpt2").block_parameter_count()), kGpt2TokensPerParameter);
  for (const std::string& p : pair_labels())
    out += fmt::format(" {:+.2f} | — |", published_change().at(p));
  return out + " — | — |\n";
}

// ξ per pair and for the triple, with the base's dose and validation loss; empty when no run
// measured ξ.
std::string xi_table(const std::vector<RunFigures>& runs) {
  if (std::none_of(runs.begin(), runs.end(), [](const RunFigures& r) { return !r.xi.empty(); }))
    return "";
  std::string out =
      "\n### Non-additivity ξ\n\nξ: mean over a domain's test tokens of KL(single adapter ‖ "
      "sum), averaged over the combination's domains (nats per token).\n\n"
      "| run | tokens/param | base valid loss |";
  for (const std::string& p : pair_labels()) out += fmt::format(" ξ {} |", p);
  out += " ξ all three |\n|---|---|---|---|---|---|---|\n";
  for (const RunFigures& r : runs) {
    out +=
        fmt::format("| {} | {} | {} |", r.dir, dose_text(r.tokens_per_parameter),
                    std::isnan(r.base_valid_loss) ? "—" : fmt::format("{:.3f}", r.base_valid_loss));
    for (const std::string& p : pair_labels())
      out +=
          fmt::format(" {} |", r.xi.count(p) ? pm(r.xi.at(p), r.seeds, "{:.4f}", "{:.4f}") : "—");
    out += fmt::format(" {} |\n", pm(r.triple_xi, r.seeds, "{:.4f}", "{:.4f}"));
  }
  return out;
}

// Over every (run, pair) with ξ, how closely ξ and the RMS cosine follow the change % (pair
// means); null under 3 points.
json relation(const std::vector<RunFigures>& runs) {
  std::vector<double> change, xi, cos;
  for (const RunFigures& r : runs)
    for (const auto& [label, x] : r.xi)
      if (r.change.count(label)) {
        change.push_back(r.change.at(label).mean);
        xi.push_back(x.mean);
        cos.push_back(r.cos.at(label).mean);
      }
  if (change.size() < 3) return nullptr;
  return {{"points", change.size()},
          {"pearson_xi", pearson(xi, change)},
          {"spearman_xi", spearman(xi, change)},
          {"pearson_rms_cos", pearson(cos, change)},
          {"spearman_rms_cos", spearman(cos, change)}};
}

std::string relation_text(const json& rel) {
  if (rel.is_null()) return "";
  return fmt::format(
      "\nOver the {} pair points (each a run's mean), change % against ξ: Pearson r {:.2f}, "
      "Spearman ρ {:.2f}; against RMS cosine: Pearson r {:.2f}, Spearman ρ {:.2f}.\n",
      rel["points"].get<int>(), rel["pearson_xi"].get<double>(), rel["spearman_xi"].get<double>(),
      rel["pearson_rms_cos"].get<double>(), rel["spearman_rms_cos"].get<double>());
}

// Runs of one model size at several recorded pretraining doses are drawn against the dose;
// anything else against the base model's size.
bool by_dose(const std::vector<RunFigures>& runs) {
  std::set<double> sizes, doses;
  for (const RunFigures& r : runs) {
    if (std::isnan(r.tokens_per_parameter)) return false;
    sizes.insert(r.parameters);
    doses.insert(r.tokens_per_parameter);
  }
  return sizes.size() == 1 && doses.size() > 1;
}

json or_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json run_json(const RunFigures& r) {
  json pairs;
  for (const auto& [label, c] : r.change)
    pairs[label] = {{"change_pct", c.mean},
                    {"change_pct_std", c.std},
                    {"rms_cos", r.cos.at(label).mean},
                    {"rms_cos_std", r.cos.at(label).std}};
  for (const auto& [label, x] : r.xi)
    if (pairs.contains(label)) {
      pairs[label]["xi"] = x.mean;
      pairs[label]["xi_std"] = x.std;
    }
  return {{"run", r.dir},
          {"preset", r.preset},
          {"seeds", r.seeds},
          {"parameters", r.parameters},
          {"block_parameters", r.block_parameters},
          {"tokens_per_parameter", or_null(r.tokens_per_parameter)},
          {"base_valid_loss", or_null(r.base_valid_loss)},
          {"pairs", pairs},
          {"triple_change_pct", or_null(r.triple.mean)},
          {"triple_change_pct_std", or_null(r.triple.std)},
          {"triple_xi", or_null(r.triple_xi.mean)},
          {"triple_xi_std", or_null(r.triple_xi.std)},
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
  // By size, then by dose (a run without a recorded dose first).
  auto dose = [](const RunFigures& r) {
    return std::isnan(r.tokens_per_parameter) ? -1.0 : r.tokens_per_parameter;
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const RunFigures& a, const RunFigures& b) {
    return std::pair{a.parameters, dose(a)} < std::pair{b.parameters, dose(b)};
  });
  std::vector<std::string> mixed = differences(runs);
  if (!mixed.empty() && !allow_mixed)
    input_error(
        "report: the runs differ in more than their base models, so their figures would not "
        "show the effect of size or pretraining dose alone:\n  {}\n(--allow-mixed writes the "
        "report anyway and lists these differences in it)",
        fmt::join(mixed, "\n  "));
  double study_parameters = GPT2Config::preset("gpt2").parameter_count();
  json rel = relation(runs);
  std::string md = table(runs, study_parameters) + xi_table(runs) + relation_text(rel);
  if (!mixed.empty())
    md += "\nThe runs differ in more than their base models (--allow-mixed):\n\n- " +
          fmt::format("{}", fmt::join(mixed, "\n- ")) + "\n";
  bool dose_axis = by_dose(runs);
  json j = {{"runs", json::array()},
            {"axis", dose_axis ? "tokens_per_parameter" : "parameters"},
            {"differences", mixed},
            {"study",
             {{"parameters", study_parameters},
              {"tokens_per_parameter", kGpt2TokensPerParameter},
              {"change_pct", published_change()}}}};
  if (!rel.is_null()) j["relation"] = rel;
  for (const RunFigures& r : runs) j["runs"].push_back(run_json(r));
  fs::create_directories(out + "/plots");
  write_file_atomic(out + "/scale.md",
                    fmt::format("# Change % and RMS cosine against {}\n\n",
                                dose_axis ? "pretraining dose" : "base-model size") +
                        settings_head(runs) + "Mean ± std over each run's seeds.\n\n" + md);
  write_file_atomic(out + "/scale.json", j.dump(2) + "\n");
  for (const auto& [name, svg] : scale_figures(j)) write_file_atomic(out + "/plots/" + name, svg);
  write_report_page(out);
  return md;
}

}  // namespace ls
