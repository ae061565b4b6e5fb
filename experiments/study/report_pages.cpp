// report.html of an ablation (ablation.json) and of `lorasum report` (scale.json).
#include <fmt/format.h>

#include <filesystem>

#include "experiments/plots/charts.h"
#include "experiments/study/report_html.h"
#include "experiments/study/report_json.h"
#include "tensor/io/file_io.h"

namespace ls::report {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ablation_table(const json& a) {
  const json& configs = a.at("configurations");
  const json& study = a.at("published_change_pct");
  std::vector<std::string> header = {"configuration"};
  if (!configs.empty())
    for (const json& p : configs.front().at("pairs"))
      header.push_back(html::esc(labels(p.at("domains"))));
  header.push_back("fit r: pairs / all");
  std::vector<std::vector<std::string>> rows;
  for (const json& c : configs) {
    std::vector<std::string> row = {html::esc(c.at("label").get<std::string>())};
    for (const json& p : c.at("pairs"))
      row.push_back(pm(p["change_pct"], p["std"]["change_pct"], "{:+.2f}", "{:.2f}") + "<br>cos " +
                    pm(p["rms_cos"], p["std"]["rms_cos"], "{:.4f}"));
    const json& r = c.at("fit_pearson_r");
    auto fit_r = [&r](const char* key) {  // null: a fit over fewer than 3 points
      const json& v = r.value(key, json());
      return v.is_number() ? fmt::format("{:.2f}", v.get<double>()) : std::string("n/a");
    };
    row.push_back(fit_r("pairs") + " / " + fit_r("all"));
    rows.push_back(std::move(row));
  }
  std::vector<std::string> row = {"<span class=\"study\">the study (GPT-2 Small)</span>"};
  for (size_t i = 1; i + 1 < header.size(); ++i)
    row.push_back("<span class=\"study\">" +
                  published(study, labels(configs.front()["pairs"][i - 1]["domains"])) + "</span>");
  row.push_back("—");
  rows.push_back(std::move(row));
  return html::table(header, rows) +
         "<p>change % of the naive sum against merged-data training, mean ± std over seeds, "
         "with the RMS cosine of the summed adapters' deltas beneath.</p>\n";
}

std::string ablation_per_seed(const json& a) {
  std::vector<std::vector<std::string>> rows;
  for (const json& c : a.at("configurations"))
    for (const json& p : c.at("pairs")) {
      const json& s = p.at("per_seed");
      for (size_t i = 0; i < s.at("change_pct").size(); ++i)
        rows.push_back({html::esc(c.at("label").get<std::string>()),
                        html::esc(labels(p.at("domains"))), std::to_string(i),
                        fmt::format("{:+.2f}", s["change_pct"][i].get<double>()),
                        fmt::format("{:.5f}", s["rms_cos"][i].get<double>())});
    }
  return html::table({"configuration", "pair", "seed", "change %", "RMS cos"}, rows);
}

}  // namespace

std::string ablation_page(const std::string& dir, const json& a) {
  std::vector<std::string> files = {"ablation.md", "ablation.csv", "ablation.json"};
  std::string settings;
  for (const json& c : a.at("configurations")) {
    std::string folder = "ablation/" + c.at("label").get<std::string>();
    files.push_back(folder + "/report.html");
    if (settings.empty() && fs::exists(dir + "/" + folder + "/results.json"))
      settings = html::settings_table(
          run_settings(json::parse(read_file(dir + "/" + folder + "/results.json"))));
  }
  std::string body =
      "<h2>Settings</h2>\n<p>Every configuration as below, with its own study choices.</p>\n" +
      settings + "<h2>Results</h2>\n" + ablation_table(a) + "<h2>Figures</h2>\n" +
      html::figures(dir) + "<h2>Details</h2>\n" + html::details("Per seed", ablation_per_seed(a)) +
      "<h2>Files</h2>\n" + html::links(dir, files);
  return html::page("lorasum ablation of the study's choices", body);
}

namespace {

std::vector<std::string> pair_names(const json& scale) {
  std::vector<std::string> names;
  for (const auto& [pair, _] : scale.at("study").at("change_pct").items()) names.push_back(pair);
  return names;
}

std::string scale_table(const json& scale) {
  std::vector<std::string> header = {"run", "preset", "seeds", "parameters", "tokens/param"};
  for (const std::string& p : pair_names(scale)) {
    header.push_back(html::esc(p) + " change %");
    header.push_back("RMS cos");
  }
  header.push_back("random RMS cos");
  std::vector<std::vector<std::string>> rows;
  for (const json& r : scale.at("runs")) {
    std::vector<std::string> row = {html::esc(r.at("run").get<std::string>()),
                                    html::esc(or_dash(r["preset"])), or_dash(r["seeds"]),
                                    svg::count_label(r.at("parameters").get<double>()),
                                    pm(r.value("tokens_per_parameter", json()), json(), "{:.3g}")};
    bool one = r.value("seeds", 0) == 1;  // one seed's std of 0 would claim a precision
    for (const std::string& p : pair_names(scale)) {
      json f = r.at("pairs").value(p, json::object());
      row.push_back(pm(f.value("change_pct", json()),
                       one ? json() : f.value("change_pct_std", json()), "{:+.1f}", "{:.1f}"));
      row.push_back(
          pm(f.value("rms_cos", json()), one ? json() : f.value("rms_cos_std", json()), "{:.4f}"));
    }
    row.push_back(
        pm(r.value("random_rms_cos", json()), r.value("random_rms_cos_std", json()), "{:.4f}"));
    rows.push_back(std::move(row));
  }
  const json& study = scale.at("study");
  std::vector<std::string> row = {
      "<span class=\"study\">the study</span>", "gpt2-small", "1",
      svg::count_label(study.at("parameters").get<double>()),
      "~" + pm(study.value("tokens_per_parameter", json()), json(), "{:.3g}")};
  for (const std::string& p : pair_names(scale)) {
    row.push_back(
        fmt::format("<span class=\"study\">{}</span>", published(study.at("change_pct"), p)));
    row.push_back("—");
  }
  row.push_back("—");
  rows.push_back(std::move(row));
  std::string out = html::table(header, rows) + "<p>Mean ± std over each run's seeds.</p>\n";
  if (const json& rel = scale.value("relation", json()); rel.is_object())
    out += fmt::format(
        "<p>Over the {} pair points (each a run's mean), change % against the non-additivity ξ: "
        "Pearson r {:.2f}; against RMS cosine: Pearson r {:.2f}.</p>\n",
        rel.at("points").get<int>(), rel.at("pearson_xi").get<double>(),
        rel.at("pearson_rms_cos").get<double>());
  return out;
}

}  // namespace

std::string scale_page(const std::string& dir, const json& scale) {
  std::string differences;
  for (const json& d : scale.value("differences", json::array()))
    differences += "<li>" + html::esc(d.get<std::string>()) + "</li>\n";
  std::string runs = "<ul>\n";
  for (const json& r : scale.at("runs")) {
    std::string run = r.at("run").get<std::string>();
    std::string page = run + "/report.html";
    runs += fs::exists(page)
                ? fmt::format("<li><a href=\"{}\">{}</a></li>\n",
                              html::esc(fs::relative(page, dir).string()), html::esc(run))
                : "<li>" + html::esc(run) + "</li>\n";
  }
  runs += "</ul>\n";
  std::string body =
      "<h2>Settings</h2>\n<p>Runs that differ in their base models only" +
      std::string(differences.empty() ? ".</p>\n"
                                      : "; these differ in more (--allow-mixed):</p>\n<ul>\n" +
                                            differences + "</ul>\n") +
      "<h2>Results</h2>\n" + scale_table(scale) + "<h2>Figures</h2>\n" + html::figures(dir) +
      "<h2>Details</h2>\n" + html::details("Each run's own report", runs) + "<h2>Files</h2>\n" +
      html::links(dir, {"scale.md", "scale.json"});
  bool dose = scale.value("axis", "parameters") == "tokens_per_parameter";
  return html::page(std::string("lorasum report: the study against ") +
                        (dose ? "pretraining dose" : "base-model size"),
                    body);
}

}  // namespace ls::report
