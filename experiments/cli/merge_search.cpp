#include "experiments/cli/merge_search.h"

#include <fmt/format.h>

#include "experiments/app/workspace.h"
#include "experiments/cli/checks.h"
#include "gpt2/checkpoint.h"
#include "lora/weight_search.h"
#include "tensor/error.h"

namespace ls::cli {

void add_search_flags(CLI::App* cmd, SearchFlags& f) {
  cmd->add_flag("--search-weights", f.on,
                "Fit one weight per adapter on --data by gradient descent on the summed "
                "model's validation loss (needs --model), then write the weighted sum");
  cmd->add_option("--data", f.data,
                  "QA JSONL validation file for --search-weights; repeat for each (never a "
                  "test split you report on)");
  cmd->add_flag("--per-module", f.per_module,
                "--search-weights: a weight per adapter and module kind (attn.c_attn, …)");
  cmd->add_option("--search-examples", f.examples, "Validation examples taken from each file")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--search-steps", f.steps,
                  "Adam steps of the search at most (it stops once 5 steps gain under 1e-4)")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--search-lr", f.lr, "Adam learning rate of the search")
      ->capture_default_str()
      ->check(in_range(0.0, 10.0, true));
}

void check_search_flags(const SearchFlags& f, const CLI::App& cmd, bool method_is_sum) {
  for (const char* flag :
       {"--data", "--per-module", "--search-examples", "--search-steps", "--search-lr"})
    if (!f.on && cmd.count(flag)) input_error("{} goes with --search-weights", flag);
  if (!f.on) return;
  if (!method_is_sum) input_error("--search-weights writes a weighted sum: use --method sum");
  if (cmd.count("--weights")) input_error("--search-weights chooses the weights: drop --weights");
  if (cmd.count("--into-base")) input_error("--search-weights writes an adapter, not --into-base");
  if (f.data.empty()) input_error("--search-weights needs --data FILE (validation examples)");
  if (!cmd.count("--model")) input_error("--search-weights needs --model, the base model");
}

std::vector<AdapterFactors> searched_adapters(const std::vector<AdapterFactors>& adapters,
                                              const std::string& model_dir, const SearchFlags& f) {
  auto model = load_gpt2(model_dir);
  Tokenizer tok = load_tokenizer(model_dir);
  std::vector<Example> validation;
  for (const std::string& file : f.data) {
    std::vector<Example> part = load_qa_jsonl(file, tok);
    if (static_cast<int64_t>(part.size()) > f.examples)
      part.resize(static_cast<size_t>(f.examples));
    validation.insert(validation.end(), part.begin(), part.end());
  }
  WeightSearchOptions o;
  o.per_module = f.per_module;
  o.steps = f.steps;
  o.lr = f.lr;
  WeightSearch s = search_weights(*model, adapters, validation, o);
  fmt::print("searched weights on {} validation examples ({} steps):\n", validation.size(),
             s.steps);
  fmt::print("  {:<40}{}\n", "adapter", fmt::join(s.kinds, "  "));
  for (size_t i = 0; i < adapters.size(); ++i)
    fmt::print("  {:<40}{:.4f}\n", adapters[i].name, fmt::join(s.weights[i], "  "));
  fmt::print("validation loss {:.4f} at all-ones, {:.4f} at the weights found\n", s.loss_before,
             s.loss_after);
  return apply_weights(adapters, s);
}

}  // namespace ls::cli
