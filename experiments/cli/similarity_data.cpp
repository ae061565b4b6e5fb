#include "experiments/cli/similarity_data.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "experiments/app/workspace.h"
#include "experiments/plots/svg.h"
#include "gpt2/checkpoint.h"
#include "tensor/error.h"

namespace ls::cli {

namespace {

namespace fs = std::filesystem;
using svg::format_value;

// The adapter folder's own name, which names its domain's data folder.
std::string domain_of(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  std::string name = p.filename().string();
  return name.empty() ? p.parent_path().filename().string() : name;
}

ProbeData domain_data(const DataAwareFlags& f, const std::string& domain, const Tokenizer& tok) {
  fs::path file = fs::path(f.data_dir) / domain / "test.jsonl";
  if (!fs::is_regular_file(file))
    input_error(
        "--data {}: no {} for domain {} (an adapter's domain is its folder's name unless "
        "--domains names each; the data is <data>/<domain>/test.jsonl)",
        f.data_dir, file.string(), domain);
  ProbeData d{load_qa_jsonl(file.string(), tok), f.batch, f.seq_len};
  if (f.limit > 0 && static_cast<int64_t>(d.examples.size()) > f.limit)
    d.examples.resize(static_cast<size_t>(f.limit));
  return d;
}

}  // namespace

DataAware measure_data_aware(const std::vector<std::string>& adapter_dirs,
                             const DataAwareFlags& flags) {
  if (flags.model_dir.empty()) input_error("--data needs --model, the adapters' base model");
  auto model = load_gpt2(flags.model_dir);
  Tokenizer tok = load_tokenizer(flags.model_dir);
  std::vector<std::shared_ptr<LoraAdapter>> adapters;
  std::vector<ProbeData> data;
  DataAware d;
  if (!flags.domains.empty() && flags.domains.size() != adapter_dirs.size())
    input_error("--domains names {} domain(s) for {} adapters; give one per --adapter",
                flags.domains.size(), adapter_dirs.size());
  for (size_t i = 0; i < adapter_dirs.size(); ++i) {
    const std::string& dir = adapter_dirs[i];
    adapters.push_back(LoraAdapter::load(dir, *model));
    d.domains.push_back(flags.domains.empty() ? domain_of(dir) : flags.domains[i]);
    data.push_back(domain_data(flags, d.domains.back(), tok));
  }
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, double> base = base_weight_norms(*model);
  size_t n = adapters.size();
  d.pairs.assign(n, std::vector<PairInterference>(n));
  for (size_t i = 0; i < n; ++i) {
    d.relative_norm.push_back(relative_delta_norm(AdapterFactors::of(*adapters[i]), base));
    for (size_t j = i + 1; j < n; ++j)
      d.pairs[i][j] = pair_interference(*model, *adapters[i], *adapters[j], data[i], data[j]);
  }
  d.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return d;
}

void print_data_aware(const DataAware& d) {
  fmt::print("\ndata-aware measures, each adapter on its domain's test split ({:.1f} s)\n",
             d.seconds);
  for (size_t i = 0; i < d.domains.size(); ++i)
    fmt::print("  [{}] {:<12} ‖ΔW‖/‖W‖ (RMS over modules) {}\n", i + 1, d.domains[i],
               format_value(d.relative_norm[i]));
  for (size_t i = 0; i < d.domains.size(); ++i)
    for (size_t j = i + 1; j < d.domains.size(); ++j) {
      const PairInterference& p = d.pairs[i][j];
      fmt::print("[{}] vs [{}]:\n", i + 1, j + 1);
      fmt::print("  {:<28}{}\n", "cross-talk", format_value(p.cross_talk));
      fmt::print("  {:<28}{}\n", "activation cosine (RMS)", format_value(p.activation_cosine));
      fmt::print("  {:<28}{}\n", "gradient cosine", format_value(p.gradient_cosine));
      fmt::print("  {:<28}{}  ([{}] {}, [{}] {})\n", "ξ (mean KL single‖sum)",
                 format_value(p.xi_mean()), i + 1, format_value(p.xi_a), j + 1,
                 format_value(p.xi_b));
      fmt::print("  {:<28}{}  (ratio of norms {})\n", "‖ΔW₁‖·‖ΔW₂‖", format_value(p.norms.product),
                 format_value(p.norms.ratio));
    }
}

void add_data_aware_json(const DataAware& d, nlohmann::json& out) {
  out["data_aware_seconds"] = d.seconds;
  out["relative_delta_norm"] = d.relative_norm;
  out["domains"] = d.domains;
  for (nlohmann::json& pair : out["pairs"]) {
    const PairInterference& p = d.pairs[pair["a"].get<size_t>()][pair["b"].get<size_t>()];
    pair["data_aware"] = {{"cross_talk", p.cross_talk},
                          {"activation_cosine", p.activation_cosine},
                          {"gradient_cosine", p.gradient_cosine},
                          {"xi_a", p.xi_a},
                          {"xi_b", p.xi_b},
                          {"xi_mean", p.xi_mean()},
                          {"norm_product", p.norms.product},
                          {"norm_ratio", p.norms.ratio}};
  }
}

}  // namespace ls::cli
