#pragma once
// JSON values quoted in error messages.
#include <nlohmann/json.hpp>
#include <string>

namespace ls {

// Scalars verbatim (cut at 40 characters), containers by type only: dumping a deeply nested
// value from a hostile file would recurse without bound.
inline std::string json_brief(const nlohmann::json& value) {
  if (value.is_structured()) return std::string("a JSON ") + value.type_name();
  std::string text = value.dump();
  return text.size() > 40 ? text.substr(0, 40) + "..." : text;
}

}  // namespace ls
