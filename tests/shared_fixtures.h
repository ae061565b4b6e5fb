#pragma once
// The PyTorch reference fixtures in ../shared/fixtures (see its README), an extra check beside
// the committed ones when ../shared exists: a tiny GPT-2, two PEFT adapters, logits of 3 cases.
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tensor/io/file_io.h"
#include "tests/shared_dir.h"

namespace ls::test {

struct SharedCase {
  std::vector<int32_t> ids;
  std::vector<float> logits;  // [T, vocab] row-major
  double mean_loss = 0.0;
};

inline SharedCase shared_case(const std::string& name) {
  auto cases = nlohmann::json::parse(read_file(shared_path("fixtures/cases.json")));
  for (auto& c : cases["cases"]) {
    if (c["name"] != name) continue;
    SharedCase sc;
    sc.ids = c["ids"].get<std::vector<int32_t>>();
    std::string bytes = read_file(shared_path("fixtures/" + c["logits_file"].get<std::string>()));
    sc.logits.resize(bytes.size() / sizeof(float));
    std::memcpy(sc.logits.data(), bytes.data(), bytes.size());
    sc.mean_loss = c["mean_next_token_loss"];
    return sc;
  }
  throw std::runtime_error("no fixture case " + name);
}

}  // namespace ls::test
