#pragma once
// The PyTorch reference fixtures in ../shared/fixtures (see its README): a tiny GPT-2, two PEFT
// adapters and logits for three cases.
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tensor/file_io.h"
#include "tests/shared_dir.h"

namespace ls::test {

struct FixtureCase {
  std::vector<int32_t> ids;
  std::vector<float> logits;  // [T, vocab] row-major
  double mean_loss = 0.0;
};

inline FixtureCase fixture_case(const std::string& name) {
  auto cases = nlohmann::json::parse(read_file(shared_path("fixtures/cases.json")));
  for (auto& c : cases["cases"]) {
    if (c["name"] != name) continue;
    FixtureCase fc;
    fc.ids = c["ids"].get<std::vector<int32_t>>();
    std::string bytes = read_file(shared_path("fixtures/" + c["logits_file"].get<std::string>()));
    fc.logits.resize(bytes.size() / sizeof(float));
    std::memcpy(fc.logits.data(), bytes.data(), bytes.size());
    fc.mean_loss = c["mean_next_token_loss"];
    return fc;
  }
  throw std::runtime_error("no fixture case " + name);
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

}  // namespace ls::test
