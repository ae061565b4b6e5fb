#include "experiments/study/compositions.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "experiments/app/comma_list.h"
#include "lora/compose.h"
#include "lora/interference_probe.h"
#include "lora/weight_search.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace {

// TIES at the top-20 % density of its paper; DARE dropping half the entries.
constexpr float kTiesDensity = 0.2f, kDareDensity = 0.5f;
constexpr uint64_t kValidationSeed = 42;

using nlohmann::json;

json stat_to_json(const Stat& s) {
  return {{"mean", s.mean()}, {"std", s.std()}, {"per_seed", s.values}};
}

json stats_to_json(const std::map<std::string, Stat>& m) {
  json out = json::object();
  for (const auto& [key, s] : m) out[key] = stat_to_json(s);
  return out;
}

// "math 0.0123 ± 0.0004, medicine …", in the combination's order.
std::string by_domain(const CombinationExtras& e, const std::map<std::string, Stat>& m,
                      const char* format) {
  std::vector<std::string> parts;
  for (const std::string& d : e.domains) parts.push_back(d + " " + mean_pm(m.at(d), format));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string method_label(const std::string& method, int64_t rank) {
  return composition_label(method, kTiesDensity, kDareDensity, rank);
}

}  // namespace

std::string composition_label(const std::string& method, double ties_density, double dare_density,
                              int64_t svd_rank) {
  if (method == "sum") return "naive sum";
  if (method == "searched") return "searched weights";
  if (method == "ties") return fmt::format("TIES (density {:g})", ties_density);
  if (method == "dare") return fmt::format("DARE (density {:g})", dare_density);
  return fmt::format("SVD rank {}", svd_rank);
}

const std::vector<std::string>& composition_methods() {
  static const std::vector<std::string> methods = {"sum", "searched", "ties", "dare", "svd"};
  return methods;
}

std::vector<std::string> parse_composed(const std::string& names, const std::string& flag) {
  if (names == "none") return {};
  const auto& methods = composition_methods();
  std::set<std::string> given;
  bool valid = true;  // every name a method other than the sum, and none twice
  for (const std::string& item : comma_items(names))
    valid = valid && item != "sum" &&
            std::find(methods.begin(), methods.end(), item) != methods.end() &&
            given.insert(item).second;
  if (!valid || given.empty() || names.back() == ',')
    input_error("{} {}: expected none or a comma-separated list of searched, ties, dare, svd", flag,
                names);
  std::vector<std::string> out;  // in table order
  for (const std::string& m : methods)
    if (given.count(m)) out.push_back(m);
  return out;
}

std::vector<Example> validation_slice(const std::vector<Example>& train, size_t count) {
  std::vector<size_t> order = shuffled_indices(train.size(), kValidationSeed);
  std::vector<Example> out;
  for (size_t i = 0; i < std::min(count, order.size()); ++i) out.push_back(train[order[i]]);
  return out;
}

CompositionStudy::CompositionStudy(GPT2& model, std::map<std::string, std::vector<Example>> test,
                                   std::map<std::string, std::vector<Example>> validation,
                                   int64_t rank, int64_t batch, int64_t seq_len, int search_steps,
                                   const std::vector<std::string>& composed)
    : model_(model),
      test_(std::move(test)),
      validation_(std::move(validation)),
      rank_(rank),
      batch_(batch),
      seq_len_(seq_len),
      search_steps_(search_steps),
      base_norms_(base_weight_norms(model)) {
  results_.methods = {"sum"};
  results_.methods.insert(results_.methods.end(), composed.begin(), composed.end());
  results_.svd_rank = rank;
  results_.validation_per_domain = validation_.empty() ? 0 : validation_.begin()->second.size();
}

CombinationExtras& CompositionStudy::extras(const std::vector<std::string>& domains) {
  for (CombinationExtras& e : results_.combinations)
    if (e.domains == domains) return e;
  results_.combinations.push_back({});
  results_.combinations.back().domains = domains;
  return results_.combinations.back();
}

void CompositionStudy::add(const std::vector<std::string>& domains,
                           const std::vector<std::shared_ptr<LoraAdapter>>& singles,
                           double ppl_merged, double ppl_sum, const CombinationScorer& score) {
  CombinationExtras& e = extras(domains);
  e.ppl_merged.values.push_back(ppl_merged);
  auto record = [&](const std::string& method, double ppl) {
    e.ppl[method].values.push_back(ppl);
    e.change_pct[method].values.push_back((ppl - ppl_merged) / ppl_merged * 100.0);
  };
  auto score_factors = [&](const AdapterFactors& f) { return score({f.to_adapter(model_)}); };
  std::vector<AdapterFactors> factors;
  std::vector<Example> validation;
  for (size_t i = 0; i < domains.size(); ++i) {
    factors.push_back(AdapterFactors::of(*singles[i], domains[i]));
    const auto& slice = validation_.at(domains[i]);
    validation.insert(validation.end(), slice.begin(), slice.end());
  }
  record("sum", ppl_sum);
  if (results_.scored("searched")) {
    WeightSearchOptions o;
    o.batch = batch_;
    o.seq_len = seq_len_;
    o.steps = search_steps_;
    WeightSearch w = search_weights(model_, factors, validation, o);
    for (size_t i = 0; i < domains.size(); ++i)
      e.searched_weight[domains[i]].values.push_back(w.weights[i][0]);
    record("searched", score_factors(compose(apply_weights(factors, w), {}).adapter));
  }
  const std::pair<const char*, MergeOptions> merges[] = {
      {"ties", {MergeMethod::ties, {}, 0, kTiesDensity}},
      {"dare", {MergeMethod::dare, {}, 0, kDareDensity}},
      {"svd", {MergeMethod::svd, {}, rank_}}};
  for (const auto& [method, options] : merges)
    if (results_.scored(method)) record(method, score_factors(compose(factors, options).adapter));
  add_nonadditivity(e, singles);
}

void CompositionStudy::add_nonadditivity(CombinationExtras& e,
                                         const std::vector<std::shared_ptr<LoraAdapter>>& singles) {
  double total = 0.0;
  for (size_t i = 0; i < singles.size(); ++i) {
    std::vector<LoraAdapter*> others;
    for (size_t j = 0; j < singles.size(); ++j)
      if (j != i) others.push_back(singles[j].get());
    const std::string& d = e.domains[i];
    double xi = disentanglement_error(model_, *singles[i], others, {test_.at(d), batch_, seq_len_});
    e.xi[d].values.push_back(xi);
    total += xi;
    e.relative_norm[d].values.push_back(
        relative_delta_norm(AdapterFactors::of(*singles[i]), base_norms_));
  }
  e.xi_mean.values.push_back(total / static_cast<double>(singles.size()));
}

namespace {

// The change % of each composition scored beside the naive sum.
std::string compositions_table(const CompositionResults& r) {
  std::string out =
      "\n### Compositions\n\nchange % against merged-data training of other compositions of the "
      "same single adapters.";
  if (r.scored("searched"))
    out += fmt::format(
        " Searched weights: one per adapter, fitted by gradient descent on {} examples of each "
        "domain's train split (never a test split).",
        r.validation_per_domain);
  if (r.scored("ties") || r.scored("dare"))
    out += " TIES and DARE as `lorasum merge` writes them (rank Σr).";
  if (r.scored("svd"))
    out += fmt::format(" SVD: the exact sum re-compressed to rank {}.", r.svd_rank);
  out += "\n\n| combination |";
  for (const std::string& m : r.methods) out += fmt::format(" {} |", method_label(m, r.svd_rank));
  out += "\n|---|";
  for (size_t i = 0; i < r.methods.size(); ++i) out += "---|";
  out += "\n";
  for (const CombinationExtras& e : r.combinations) {
    out += fmt::format("| {} |", domains_label(e.domains));
    for (const std::string& m : r.methods)
      out += fmt::format(" {} |", mean_pm(e.change_pct.at(m), "{:+.2f}", "{:.2f}"));
    out += "\n";
  }
  return out;
}

std::string compositions_markdown(const CompositionResults& r) {
  // With nothing scored beside the naive sum, its column would repeat the pairs' table.
  std::string out = r.methods.size() > 1 ? compositions_table(r) : "";
  out += fmt::format("\n### Non-additivity of the naive sum\n\n{}\n\n", kNonadditivityLegend);
  out +=
      "| combination | ξ per domain | ξ mean | ‖ΔW‖/‖W‖ | searched weights "
      "|\n|---|---|---|---|---|\n";
  for (const CombinationExtras& e : r.combinations)
    out += fmt::format("| {} | {} | {} | {} | {} |\n", domains_label(e.domains),
                       by_domain(e, e.xi, "{:.3g}"), mean_pm(e.xi_mean, "{:.3g}"),
                       by_domain(e, e.relative_norm, "{:.4f}"),
                       e.searched_weight.empty() ? "—" : by_domain(e, e.searched_weight, "{:.3f}"));
  return out;
}

json compositions_json(const CompositionResults& r) {
  json out = {{"methods", r.methods},
              {"svd_rank", r.svd_rank},
              {"ties_density", kTiesDensity},
              {"dare_density", kDareDensity},
              {"validation_examples_per_domain", r.validation_per_domain},
              {"combinations", json::array()}};
  for (const CombinationExtras& e : r.combinations)
    out["combinations"].push_back({{"domains", e.domains},
                                   {"ppl_merged", stat_to_json(e.ppl_merged)},
                                   {"change_pct", stats_to_json(e.change_pct)},
                                   {"ppl", stats_to_json(e.ppl)},
                                   {"xi", stats_to_json(e.xi)},
                                   {"xi_mean", stat_to_json(e.xi_mean)},
                                   {"relative_delta_norm", stats_to_json(e.relative_norm)},
                                   {"searched_weight", stats_to_json(e.searched_weight)}});
  return out;
}

std::string compositions_csv(const CompositionResults& r) {
  std::string out = "combination,seed,method,ppl_merged,ppl,change_pct\n";
  for (const CombinationExtras& e : r.combinations)
    for (const std::string& m : r.methods)
      for (size_t s = 0; s < e.ppl.at(m).values.size(); ++s)
        out += fmt::format("{},{},{},{:.6f},{:.6f},{:.4f}\n", domains_label(e.domains), s, m,
                           e.ppl_merged.values[s], e.ppl.at(m).values[s],
                           e.change_pct.at(m).values[s]);
  return out;
}

std::string nonadditivity_csv(const CompositionResults& r) {
  std::string out = "combination,seed,domain,xi,relative_norm,searched_weight\n";
  for (const CombinationExtras& e : r.combinations)
    for (const std::string& d : e.domains)
      for (size_t s = 0; s < e.xi.at(d).values.size(); ++s)
        out += fmt::format("{},{},{},{:.6g},{:.6g},{}\n", domains_label(e.domains), s, d,
                           e.xi.at(d).values[s], e.relative_norm.at(d).values[s],
                           e.searched_weight.empty()  // an empty cell: no search was run
                               ? ""
                               : fmt::format("{:.6g}", e.searched_weight.at(d).values[s]));
  return out;
}

}  // namespace

void add_compositions(const CompositionResults& r, std::string& markdown, nlohmann::json& results,
                      const std::string& run_dir) {
  markdown += compositions_markdown(r);
  results["compositions"] = compositions_json(r);
  write_file_atomic(run_dir + "/compositions.csv", compositions_csv(r));
  write_file_atomic(run_dir + "/nonadditivity.csv", nonadditivity_csv(r));
}

}  // namespace ls
