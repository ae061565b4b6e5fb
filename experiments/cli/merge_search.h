#pragma once
// `lorasum merge --search-weights`: the weights of a sum fitted on validation data.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "lora/factors.h"

namespace ls::cli {

struct SearchFlags {
  bool on = false, per_module = false;
  std::vector<std::string> data;  // validation files
  int64_t examples = 64;          // per file
  int steps = 30;
  float lr = 0.1f;
};

void add_search_flags(CLI::App* cmd, SearchFlags& flags);
// Refuses flags that go unused or conflict: the search needs --data and --model, writes a
// sum, and chooses the weights itself.
void check_search_flags(const SearchFlags& flags, const CLI::App& cmd, bool method_is_sum);
// Fits the weights on the first flags.examples of each data file, prints them with the
// validation loss before and after, and returns the adapters with the weights folded in.
std::vector<AdapterFactors> searched_adapters(const std::vector<AdapterFactors>& adapters,
                                              const std::string& model_dir,
                                              const SearchFlags& flags);

}  // namespace ls::cli
