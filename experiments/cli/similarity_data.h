#pragma once
// `lorasum similarity --data DIR`: the data-aware interference measures of each pair of
// adapters (lora/interference_probe.h), each adapter on its own domain's test split.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lora/interference_probe.h"

namespace ls::cli {

struct DataAwareFlags {
  std::string model_dir, data_dir;
  std::vector<std::string> domains;  // per adapter; default: each adapter folder's name
  int64_t limit = 256;               // examples per domain (0 = all)
  int64_t batch = 8, seq_len = 128;
};

struct DataAware {
  std::vector<std::string> domains;   // per adapter: the folder name, its data's domain
  std::vector<double> relative_norm;  // per adapter: relative_delta_norm
  std::vector<std::vector<PairInterference>> pairs;  // [i][j] for i < j
  double seconds = 0.0;                              // the time the measures took
};

// Loads the model and every adapter, and <data>/<domain>/test.jsonl for each.
DataAware measure_data_aware(const std::vector<std::string>& adapter_dirs,
                             const DataAwareFlags& flags);
void print_data_aware(const DataAware& d);
// Adds "data_aware" to each pair of `out` (made by the similarity command's to_json) and the
// per-adapter figures at the top level.
void add_data_aware_json(const DataAware& d, nlohmann::json& out);

}  // namespace ls::cli
