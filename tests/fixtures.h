#pragma once
// The committed parity fixtures in tests/fixtures/tiny (made by tests/fixtures/make_fixtures.py):
// a tiny GPT-2, two PEFT adapters, a batch, and PyTorch's logits, losses and gradients.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lora/adapter.h"
#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"

namespace ls::test {

inline std::string fixture_path(const std::string& relative) {
  return std::string(LORASUM_FIXTURES_DIR) + "/tiny/" + relative;
}

struct ParityCase {
  std::map<std::string, float> adapters;  // adapter folder -> weight (DIR@WEIGHT)
  double loss = 0.0;                      // PyTorch's mean cross-entropy on the batch
  std::vector<std::string> grads;         // names of the gradients PyTorch computed
};

struct ParityBatch {
  int64_t batch = 0, seq = 0;
  std::vector<int32_t> ids, targets;  // B·T row-major; targets hold -100 where ignored
  std::map<std::string, ParityCase> cases;
};

inline ParityBatch parity_batch() {
  auto j = nlohmann::json::parse(read_file(fixture_path("cases.json")));
  ParityBatch b;
  b.batch = j["batch"].get<int64_t>();
  b.seq = j["seq"].get<int64_t>();
  b.ids = j["ids"].get<std::vector<int32_t>>();
  b.targets = j["targets"].get<std::vector<int32_t>>();
  for (auto& [name, c] : j["cases"].items())
    b.cases[name] = {c["adapters"].get<std::map<std::string, float>>(), c["loss"].get<double>(),
                     c.value("grads", std::vector<std::string>{})};
  return b;
}

// PyTorch's tensor `name` in expected.safetensors: logits.<case> or grad.<name>.
inline std::vector<float> expected(const std::string& name) {
  return SafetensorsFile::open(fixture_path("expected.safetensors")).read_f32(name);
}

// Loads the case's adapters from the fixtures, weighted and attached to `model`.
inline std::vector<std::shared_ptr<LoraAdapter>> attach_adapters(const ParityCase& c, GPT2& model) {
  std::vector<std::shared_ptr<LoraAdapter>> adapters;
  for (auto& [dir, weight] : c.adapters) {
    adapters.push_back(LoraAdapter::load(fixture_path(dir), model));
    adapters.back()->set_weight(weight);
    adapters.back()->attach(model);
  }
  return adapters;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

// max |a − e| over the largest |e|: float32 sums err in proportion to the tensor's scale.
inline double relative_error(const std::vector<float>& actual, const std::vector<float>& expect) {
  double largest = 0.0;
  for (float v : expect) largest = std::max(largest, double(std::abs(v)));
  return max_abs_diff(actual, expect) / std::max(largest, 1e-30);
}

}  // namespace ls::test
