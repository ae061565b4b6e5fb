#pragma once
// Reading a run's JSON for its report.html: numbers as the pages print them.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace ls::report {

// "mean ± std" through the formats (the std's: the mean's when null); the mean alone when std
// is not a number; "—" without a mean.
std::string pm(const nlohmann::json& mean, const nlohmann::json& std, const char* format,
               const char* std_format = nullptr);
// "math+medicine" from ["math", "medicine"].
std::string labels(const nlohmann::json& list);
// A string as is, null as "—", anything else as JSON.
std::string or_dash(const nlohmann::json& v);
// The study's published change % of `pair` in `table` ("+4.54"), or "—".
std::string published(const nlohmann::json& table, const std::string& pair);
// The settings that shaped a reproduce run's figures, as its results.json records them.
std::vector<std::pair<std::string, std::string>> run_settings(const nlohmann::json& results);

std::string ablation_page(const std::string& run_dir, const nlohmann::json& ablation);
std::string scale_page(const std::string& run_dir, const nlohmann::json& scale);

}  // namespace ls::report
