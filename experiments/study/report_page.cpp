#include "experiments/study/report_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/study/compositions.h"
#include "experiments/study/report_html.h"
#include "experiments/study/report_json.h"
#include "experiments/study/run_settings.h"
#include "experiments/study/study.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace report {

using nlohmann::json;

std::string pm(const json& mean, const json& std, const char* format, const char* std_format) {
  if (!mean.is_number()) return "—";
  return mean_pm(mean.get<double>(), std.is_number() ? std.get<double>() : NAN, format, std_format);
}

std::string labels(const json& list) {
  std::string out;
  for (const json& v : list) {
    if (!out.empty()) out += '+';
    out += v.get<std::string>();
  }
  return out;
}

std::string or_dash(const json& v) {
  return v.is_null() ? "—" : v.is_string() ? v.get<std::string>() : v.dump();
}

std::string published(const json& table, const std::string& pair) {
  return table.contains(pair) ? fmt::format("{:+.2f}", table[pair].get<double>()) : "—";
}

std::vector<std::pair<std::string, std::string>> run_settings(const json& r) {
  std::vector<std::pair<std::string, std::string>> s = run_settings_lines(r);
  if (r.contains("jobs") && !r["jobs"].empty()) {
    const json& j = r["jobs"].front();
    s.push_back(
        {"training (each adapter)",
         fmt::format("{} epoch(s), batch {}, sequence length {}, warmup {}, dropout {}",
                     or_dash(j.value("epochs", json())), or_dash(j.value("batch", json())),
                     or_dash(j.value("seq_len", json())), or_dash(j.value("warmup", json())),
                     or_dash(j.value("dropout", json())))});
  }
  if (r.contains("seconds"))
    s.push_back({"run time", fmt::format("{:.0f} s", r["seconds"].get<double>())});
  return s;
}

}  // namespace report

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace report;

std::vector<std::string> pair_row(const json& p, const json& study, const std::string& name) {
  const json& sd = p.value("std", json::object());
  return {html::esc(name),
          pm(p["ppl_merged"], json(), "{:.2f}"),
          pm(p["ppl_sum"], json(), "{:.2f}"),
          pm(p["change_pct"], sd.value("change_pct", json()), "{:+.2f}", "{:.2f}"),
          fmt::format("<span class=\"study\">{}</span>", published(study, name)),
          pm(p["rms_cos"], sd.value("rms_cos", json()), "{:.4f}")};
}

std::string study_main_table(const json& r) {
  const json& study = r.value("published_change_pct", json::object());
  std::vector<std::vector<std::string>> rows;
  for (const json& p : r.at("pairs")) rows.push_back(pair_row(p, study, labels(p.at("domains"))));
  if (r.contains("triple") && r["triple"].is_object())
    rows.push_back(
        pair_row(r["triple"], study, labels(r["triple"].at("domains")) + " (all three)"));
  std::string out = html::table(
      {"combination", "merged-data ppl", "sum ppl", "change %", "the study's change %", "RMS cos"},
      rows);
  out +=
      "<p>Mean ± std over seeds; change % = (ppl<sub>sum</sub> − ppl<sub>merged</sub>) / "
      "ppl<sub>merged</sub> × 100. The study: GPT-2 Small, one run.</p>\n";
  if (r.contains("random_baseline_rms_cos"))
    out += fmt::format("<p>Random adapters of these shapes: RMS cos {:.4f} ± {:.4f}.</p>\n",
                       r["random_baseline_rms_cos"].value("mean", NAN),
                       r["random_baseline_rms_cos"].value("std", NAN));
  if (r.contains("fit") && r["fit"].is_null())
    out += "<p>Fit over pairs × seeds: n/a (a fit needs 3 points or more).</p>\n";
  if (r.contains("fit") && r["fit"].is_object()) {
    double intercept = r["fit"].value("intercept", NAN);
    out += fmt::format(
        "<p>Fit over pairs × seeds: change % = {:.2f} · RMS cos {} {:.2f}, Pearson r = "
        "{:.3f}.</p>\n",
        r["fit"].value("slope", NAN), intercept < 0 ? "−" : "+", std::fabs(intercept),
        r["fit"].value("pearson_r", NAN));
  }
  return out;
}

std::string mean_std(const json& stat, const char* format, const char* std_format = nullptr) {
  return pm(stat.value("mean", json()), stat.value("std", json()), format, std_format);
}

// One row per domain of a combination: its ξ, its adapter's ‖ΔW‖/‖W‖ and searched weight ("—"
// where the run did not measure it); the combination and its mean ξ head its first row.
void add_nonadditivity_rows(const json& e, std::vector<std::vector<std::string>>& rows) {
  const json none = json::object();
  auto at = [&](const char* key, const std::string& domain) {
    return e.contains(key) && e[key].contains(domain) ? e[key][domain] : none;
  };
  bool first = true;
  for (const json& d : e.at("domains")) {
    std::string domain = d.get<std::string>();
    rows.push_back({first ? html::esc(labels(e.at("domains"))) : "",
                    first ? mean_std(e.value("xi_mean", none), "{:.3g}") : "", html::esc(domain),
                    mean_std(at("xi", domain), "{:.3g}"),
                    mean_std(at("relative_delta_norm", domain), "{:.4f}"),
                    mean_std(at("searched_weight", domain), "{:.3f}")});
    first = false;
  }
}

// The change % of each composition scored beside the naive sum; "" when none was (the main
// table has the naive sum).
std::string compositions_table(const json& c) {
  std::vector<std::string> methods = c.at("methods").get<std::vector<std::string>>();
  if (methods.size() < 2) return "";
  std::vector<std::string> header = {"combination"};
  for (const std::string& m : methods)
    header.push_back(
        html::esc(composition_label(m, c.value("ties_density", NAN), c.value("dare_density", NAN),
                                    c.value("svd_rank", int64_t{0}))));
  std::vector<std::vector<std::string>> rows;
  for (const json& e : c.at("combinations")) {
    rows.push_back({html::esc(labels(e.at("domains")))});
    for (const std::string& m : methods)
      rows.back().push_back(
          mean_std(e.at("change_pct").value(m, json::object()), "{:+.2f}", "{:.2f}"));
  }
  std::string searched =
      std::find(methods.begin(), methods.end(), "searched") == methods.end()
          ? ""
          : fmt::format(
                " Searched weights are fitted on {} examples of each domain's train "
                "split, never a test split.",
                or_dash(c.value("validation_examples_per_domain", json())));
  return "<h3>Compositions</h3>\n<p>Change % against merged-data training of other compositions "
         "of the same single adapters, mean ± std over seeds." +
         searched + "</p>\n" + html::table(header, rows);
}

std::string nonadditivity_table(const json& c) {
  std::vector<std::vector<std::string>> rows;
  for (const json& e : c.at("combinations")) add_nonadditivity_rows(e, rows);
  return fmt::format("<h3>Non-additivity of the naive sum</h3>\n<p>{}</p>\n",
                     html::esc(kNonadditivityLegend)) +
         html::table({"combination", "ξ mean", "domain", "ξ", "‖ΔW‖/‖W‖", "searched weight"}, rows);
}

// The other compositions beside each naive sum and the sum's non-additivity ξ, where the run
// scored them (results.json's "compositions").
std::string compositions_section(const json& r) {
  const json& c = r.value("compositions", json());
  if (!c.is_object() || !c.contains("methods")) return "";
  return compositions_table(c) + nonadditivity_table(c);
}

std::string study_per_seed(const json& r) {
  std::vector<std::vector<std::string>> rows;
  for (const json& p : r.at("pairs")) {
    const json& s = p.at("per_seed");
    for (size_t i = 0; i < s.at("change_pct").size(); ++i) {
      auto at = [&](const char* key, const char* format) {
        return s.contains(key) && i < s[key].size()
                   ? fmt::format(fmt::runtime(format), s[key][i].get<double>())
                   : "—";
      };
      rows.push_back({html::esc(labels(p.at("domains"))), std::to_string(i),
                      at("ppl_merged", "{:.3f}"), at("ppl_sum", "{:.3f}"),
                      at("change_pct", "{:+.2f}"), at("rms_cos", "{:.5f}")});
    }
  }
  return html::table({"pair", "seed", "merged-data ppl", "sum ppl", "change %", "RMS cos"}, rows);
}

std::string study_page(const std::string& dir, const json& r) {
  std::string body = "<h2>Settings</h2>\n" + html::settings_table(run_settings(r)) +
                     "<h2>Results</h2>\n" + study_main_table(r) + compositions_section(r) +
                     "<h2>Figures</h2>\n" + html::figures(dir) + "<h2>Details</h2>\n" +
                     html::details("Per seed", study_per_seed(r)) + "<h2>Files</h2>\n" +
                     html::links(dir, {"results.md", "results.csv", "results.json",
                                       "compositions.csv", "nonadditivity.csv"});
  return html::page(fmt::format("lorasum reproduce: preset {}", or_dash(r.value("preset", json()))),
                    body);
}

}  // namespace

RunJson read_run_json(const std::string& run_dir) {
  for (const char* name : {"results.json", "ablation.json", "scale.json"}) {
    std::string path = run_dir + "/" + name;
    if (!fs::exists(path)) continue;
    json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) input_error("{}: not a JSON object", path);
    return {path, name, std::move(j)};
  }
  input_error(
      "{}: no results.json, ablation.json or scale.json (a run folder of lorasum reproduce or "
      "report is expected)",
      run_dir);
}

std::string write_report_page(const std::string& run_dir) {
  RunJson run = read_run_json(run_dir);
  std::string html = as_lorasum_writes(run.path, [&] {
    if (run.name == "results.json") return study_page(run_dir, run.data);
    if (run.name == "ablation.json") return ablation_page(run_dir, run.data);
    return scale_page(run_dir, run.data);
  });
  std::string path = run_dir + "/report.html";
  write_file_atomic(path, html);
  return path;
}

}  // namespace ls
