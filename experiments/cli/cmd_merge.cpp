// lorasum merge: several adapters composed into one adapter, or into a model's weights.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/merge_search.h"
#include "gpt2/checkpoint.h"
#include "lora/compose.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/output_folder.h"

namespace ls::cli {

namespace {

const char* kMethods =
    R"(Methods (ΔWᵢ = wᵢ·sᵢ·BᵢAᵢ per module, wᵢ from --weights, sᵢ = alpha/r or alpha/√r):
  sum   ΣΔWᵢ exactly, as one adapter of rank Σrᵢ: the A's and B's stacked, scales folded
        into B (lora_alpha = r). Equal to running the adapters together. Any mix of ranks,
        alphas, rsLoRA and target modules (a module only some adapters touch is zero-padded).
  svd   ΣΔWᵢ truncated to rank --rank K per module by an SVD computed through the factors:
        the best rank-K approximation of the sum (Eckart–Young).
  ties  TIES-Merging (Yadav et al., 2023), per module and entry: keep the --density fraction
        of each ΔWᵢ's largest-magnitude entries (trim), take the sign of their sum (elect), and
        average the kept entries with that sign (disjoint merge).
  dare  DARE (Yu et al., 2023): drop each entry of each ΔWᵢ with probability 1 − --density,
        scale the survivors by 1/density, and sum. --seed fixes the drop masks.
ties and dare produce dense deltas; as an adapter they are compressed to rank --rank K
(default Σrᵢ) by a randomized SVD. With --into-base --model DIR the composition is added to
the model's weights instead (ties and dare exactly) and a full model folder is written to
--out, loadable by transformers and lorasum.)";

// Tokenizer and generation files copied next to the merged weights.
const char* kModelSideFiles[] = {"vocab.json",
                                 "merges.txt",
                                 "encoder.json",
                                 "vocab.bpe",
                                 "tokenizer.json",
                                 "tokenizer_config.json",
                                 "special_tokens_map.json",
                                 "generation_config.json"};

void write_model(const std::string& model_dir, const std::vector<AdapterFactors>& adapters,
                 const MergeOptions& options, OutputFolder& out) {
  namespace fs = std::filesystem;
  auto model = load_gpt2(model_dir);
  compose_into(*model, adapters, options);
  out.replace([&](const std::string& staging) {
    save_gpt2(*model, staging);
    for (const char* name : kModelSideFiles) {
      fs::path from = fs::path(model_dir) / name;
      if (fs::exists(from))
        write_file_atomic((fs::path(staging) / name).string(), read_file(from.string()));
    }
  });
}

// What one `lorasum merge` call was given (CLI11 fills it in before the callback runs).
struct MergeFlags {
  std::vector<std::string> adapters;
  std::string out, method = "sum", model_dir;
  MergeOptions o;
  bool into_base = false;
  SearchFlags search;
};

MergeMethod parse_method(const std::string& name) {
  const std::map<std::string, MergeMethod> methods = {{"sum", MergeMethod::sum},
                                                      {"svd", MergeMethod::svd},
                                                      {"ties", MergeMethod::ties},
                                                      {"dare", MergeMethod::dare}};
  return methods.at(name);
}

// Flags a method would silently ignore are refused, so a typo cannot go unnoticed.
void check_flags(const MergeFlags& f, const CLI::App& cmd) {
  bool dense = is_dense(f.o.method);
  if (f.o.method == MergeMethod::svd && !cmd.count("--rank"))
    input_error("--method svd needs --rank K");
  if (f.o.method == MergeMethod::sum && cmd.count("--rank"))
    input_error("--rank does not apply to --method sum, which is exact at rank Σr");
  if (!dense && cmd.count("--density"))
    input_error("--density applies to --method ties and dare only");
  if (f.o.method != MergeMethod::dare && cmd.count("--seed"))
    input_error("--seed applies to --method dare only");
  if (f.into_base != !f.model_dir.empty() && !f.search.on)
    input_error(
        "--into-base and --model go together (the model whose weights receive the "
        "composition)");
  if (f.into_base && cmd.count("--rank") && dense)
    input_error(
        "--rank does not apply to --into-base with --method {}: the dense delta is "
        "merged exactly",
        f.method);
}

void write_adapter(const MergeFlags& f, const std::vector<AdapterFactors>& factors,
                   OutputFolder& folder) {
  Composition c = compose(factors, f.o);
  folder.replace([&](const std::string& staging) { c.adapter.save(staging); });
  fmt::print("wrote adapter {}: {} adapter(s) merged by {}, rank {}, {} modules\n", f.out,
             factors.size(), f.method, c.adapter.rank(), c.adapter.modules.size());
  if (f.o.method != MergeMethod::sum && c.energy > 0)
    fmt::print("keeps {:.2f}% of the composition's energy ‖ΔW‖²_F (relative error {:.3g})\n",
               100.0 * c.kept_energy / c.energy,
               std::sqrt(std::max(0.0, 1.0 - c.kept_energy / c.energy)));
}

void run_merge(const MergeFlags& f) {
  std::vector<std::string> inputs = f.adapters;
  if (f.into_base) inputs.push_back(f.model_dir);
  OutputFolder folder(f.out, inputs);
  std::vector<AdapterFactors> factors;
  for (const std::string& dir : f.adapters) factors.push_back(AdapterFactors::read(dir));
  if (f.search.on) factors = searched_adapters(factors, f.model_dir, f.search);
  if (!f.into_base) {
    write_adapter(f, factors, folder);
    return;
  }
  write_model(f.model_dir, factors, f.o, folder);
  fmt::print("wrote model {}: {} + {} adapter(s) merged by {}\n", f.out, f.model_dir,
             factors.size(), f.method);
}

}  // namespace

void add_merge(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "merge",
      "Compose adapters (sum, svd, ties or dare) into one PEFT adapter, or into a "
      "model's weights with --into-base");
  cmd->footer(kMethods);
  static MergeFlags f;
  cmd->add_option("--adapter", f.adapters, "PEFT adapter folder; repeat for each adapter")
      ->required();
  cmd->add_option("--out", f.out, "Folder to write: an adapter, or a model with --into-base")
      ->required();
  cmd->add_option("--method", f.method, "sum, svd, ties or dare (see below)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sum", "svd", "ties", "dare"}));
  cmd->add_option("--weights", f.o.weights, "Comma-separated weight per adapter (default all 1)")
      ->delimiter(',');
  cmd->add_option("--rank", f.o.rank,
                  "Rank K of the result (svd: required; ties, dare: default Σr)")
      ->check(at_least(1));
  cmd->add_option("--density", f.o.density,
                  "ties, dare: fraction of each delta's entries kept (default 1)")
      ->check(in_range(0.0, 1.0, true));
  cmd->add_option("--seed", f.o.seed, "dare: seed of the drop masks")->capture_default_str();
  cmd->add_flag("--into-base", f.into_base,
                "Merge into the weights of --model and write a model folder");
  cmd->add_option("--model", f.model_dir,
                  "Base model folder (with --into-base or --search-weights)");
  add_search_flags(cmd, f.search);
  cmd->callback([cmd] {
    f.o.method = parse_method(f.method);
    check_flags(f, *cmd);
    check_search_flags(f.search, *cmd, f.o.method == MergeMethod::sum);
    run_merge(f);
  });
}

}  // namespace ls::cli
