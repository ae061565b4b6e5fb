#pragma once
// An option check CLI11 lacks.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <string>

namespace ls::cli {

// CLI11's range checks let NaN through (every comparison with it is false) and answer
// "inf" with a 300-digit range; floating-point options run this check before theirs.
inline const CLI::Validator kFinite(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      double value = std::strtod(text.c_str(), &end);
      bool number = end != text.c_str() && *end == '\0';
      return number && !std::isfinite(value) ? "Value " + text + " is not a finite number" : "";
    },
    "FINITE");

}  // namespace ls::cli
