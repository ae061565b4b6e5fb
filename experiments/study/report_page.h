#pragma once
// report.html of a run folder: from results.json (a reproduce run), ablation.json (an
// ablation) or scale.json (`lorasum report`), whichever the folder holds, and the figures in
// its plots/. One self-contained page: settings, the main table beside the study's numbers,
// every figure inline, per-seed figures folded away, links to the CSV/JSON/markdown.
#include <nlohmann/json.hpp>
#include <string>

#include "tensor/error.h"

namespace ls {

// The JSON that a run folder's figures and page come from: the first of results.json,
// ablation.json and scale.json that run_dir holds. InputError when it holds none, or the file
// is not a JSON object.
struct RunJson {
  std::string path, name;  // name: "results.json", "ablation.json" or "scale.json"
  nlohmann::json data;
};
RunJson read_run_json(const std::string& run_dir);

// f(), with a JSON error (a missing key, a wrong type) reported as InputError naming `path`.
template <class F>
auto as_lorasum_writes(const std::string& path, F f) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    input_error("{}: not as lorasum writes it ({})", path, e.what());
  }
}

// Writes run_dir/report.html; returns its path. InputError when the folder holds none of
// the three JSON files or one of them lacks what the page needs.
std::string write_report_page(const std::string& run_dir);

}  // namespace ls
