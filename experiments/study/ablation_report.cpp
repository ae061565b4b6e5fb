// The ablation's outputs: one row per configuration of the study's choices, with the study's
// published numbers as the last row (ablation.md/.csv/.json, plots/ablation.svg).
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/study/figures.h"
#include "experiments/study/report_page.h"
#include "experiments/study/run_settings.h"
#include "experiments/study/study.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace {

using nlohmann::json;

json combination_json(const PairResult& p) {
  return {{"domains", p.domains},
          {"change_pct", p.change_pct.mean()},
          {"rms_cos", p.rms_cos.mean()},
          {"ppl_sum", p.ppl_sum.mean()},
          {"ppl_merged", p.ppl_merged.mean()},
          {"std",
           {{"change_pct", p.change_pct.std()},
            {"rms_cos", p.rms_cos.std()},
            {"ppl_sum", p.ppl_sum.std()},
            {"ppl_merged", p.ppl_merged.std()}}},
          {"per_seed", {{"change_pct", p.change_pct.values}, {"rms_cos", p.rms_cos.values}}}};
}

// The combinations of one configuration's results: its pairs, then the triple if run.
std::vector<const PairResult*> combinations(const StudyResults& R) {
  std::vector<const PairResult*> out;
  for (const PairResult& p : R.pairs) out.push_back(&p);
  if (R.has_triple) out.push_back(&R.triple);
  return out;
}

// A fit's r, or n/a when it has too few points to say anything.
std::string fit_r(const Fit& f) { return f.defined() ? fmt::format("{:.2f}", f.pearson_r) : "n/a"; }

json fit_r_json(const Fit& f) { return f.defined() ? json(f.pearson_r) : json(nullptr); }

// The run's settings, its study choices those of the rows below.
std::string settings_head(json record) {
  record["study_choices"] = "one configuration a row: none, each choice alone, all";
  std::string cut = cut_short_flags(record);
  return fmt::format("# Ablation of the study's choices{}\n\n{}", cut.empty() ? "" : " (cut short)",
                     run_settings_markdown(run_settings_lines(record), cut));
}

std::string markdown(const std::vector<StudyResults>& configs, const json& record) {
  const StudyResults& first = configs.front();
  std::ostringstream o;
  o << settings_head(record)
    << "change % of the naive sum against merged-data "
       "training (mean ± std over seeds), with the RMS cosine of the summed adapters' deltas "
       "beneath.\n\n| configuration |";
  for (const PairResult* p : combinations(first)) o << " " << domains_label(p->domains) << " |";
  o << " fit r: pairs / all |\n|---|";
  for (size_t i = 0; i <= combinations(first).size(); ++i) o << "---|";
  o << "\n";
  for (const StudyResults& R : configs) {
    o << "| " << R.choices.label() << " |";
    for (const PairResult* p : combinations(R))
      o << " " << mean_pm(p->change_pct, "{:+.2f}", "{:.2f}") << "<br>cos "
        << mean_pm(p->rms_cos, "{:.4f}") << " |";
    o << fmt::format(" {} / {} |\n", fit_r(R.fit), fit_r(R.fit_all));
  }
  o << "| **study (GPT-2 Small)** |";
  for (const PairResult* p : combinations(first)) {
    auto found = published_change().find(domains_label(p->domains));
    o << " " << (found == published_change().end() ? "—" : fmt::format("{:+.2f}", found->second))
      << " |";
  }
  o << " — |\n";
  return o.str();
}

std::string csv(const std::vector<StudyResults>& configs) {
  std::string out = "configuration,combination,seed,change_pct,rms_cos,ppl_sum,ppl_merged\n";
  for (const StudyResults& R : configs)
    for (const PairResult* p : combinations(R))
      for (size_t s = 0; s < p->change_pct.values.size(); ++s)
        out += fmt::format("\"{}\",{},{},{:.4f},{:.6f},{:.6f},{:.6f}\n", R.choices.label(),
                           domains_label(p->domains), s, p->change_pct.values[s],
                           p->rms_cos.values[s], p->ppl_sum.values[s], p->ppl_merged.values[s]);
  return out;
}

json ablation_json(const std::vector<StudyResults>& configs) {
  json list = json::array();
  for (const StudyResults& R : configs) {
    json pairs = json::array();
    for (const PairResult& p : R.pairs) pairs.push_back(combination_json(p));
    list.push_back(
        {{"choices", R.choices.names()},
         {"label", R.choices.label()},
         {"pairs", pairs},
         {"triple", R.has_triple ? combination_json(R.triple) : json(nullptr)},
         {"fit_pearson_r", {{"pairs", fit_r_json(R.fit)}, {"all", fit_r_json(R.fit_all)}}}});
  }
  return {{"configurations", list}, {"published_change_pct", published_change()}};
}

}  // namespace

std::string write_ablation_report(const std::vector<StudyResults>& configs,
                                  const std::string& run_dir, const json& record) {
  std::string md = markdown(configs, record);
  write_file_atomic(run_dir + "/ablation.md", md);
  write_file_atomic(run_dir + "/ablation.csv", csv(configs));
  json j = ablation_json(configs);
  write_file_atomic(run_dir + "/ablation.json", j.dump(2) + "\n");
  std::filesystem::create_directories(run_dir + "/plots");
  write_file_atomic(run_dir + "/plots/ablation.svg", ablation_svg(j));
  std::string page = write_report_page(run_dir);
  return "\n" + md +
         fmt::format(
             "\nAblation: {0}/ablation.md, .csv, .json, plots/ablation.svg; "
             "each configuration's full results in {0}/ablation/<choices>/.\nReport: {1}\n",
             run_dir, page);
}

}  // namespace ls
