#pragma once
// Option checks CLI11 lacks. Its own range checks let NaN through (every comparison with it is
// false) and print the limits of PositiveNumber and friends as 309-digit numbers; these say
// "must be ≥ 1" instead.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

namespace ls::cli {

namespace detail {

// Parses the whole of `text` as a number; false when it is something else (CLI11's conversion
// then reports it).
inline bool parse_number(const std::string& text, double& value) {
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

}  // namespace detail

// A finite number (NaN and infinity refused).
inline const CLI::Validator kFinite(
    [](std::string& text) -> std::string {
      double value = 0;
      return detail::parse_number(text, value) && !std::isfinite(value)
                 ? text + " is not a finite number"
                 : "";
    },
    "FINITE");

// A file to write whose folder exists: checked before the work, which would otherwise fail at
// its end naming a temporary file.
inline const CLI::Validator kInExistingFolder(
    [](std::string& text) -> std::string {
      std::filesystem::path folder = std::filesystem::path(text).parent_path();
      if (folder.empty() || std::filesystem::is_directory(folder)) return "";
      return fmt::format("{}: the folder {} does not exist", text, folder.string());
    },
    "FILE");

// A finite number from `low` to `high` (both included, unless `low_open`); an infinite
// `high` means no upper limit.
inline CLI::Validator in_range(double low, double high, bool low_open = false) {
  std::string limit;
  if (std::isinf(high))
    limit = fmt::format("{} {}", low_open ? ">" : "≥", low);
  else if (low_open)
    limit = fmt::format("in ({}, {}]", low, high);
  else
    limit = fmt::format("between {} and {}", low, high);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!detail::parse_number(text, v)) return "";
        bool inside = std::isfinite(v) && (low_open ? v > low : v >= low) && v <= high;
        if (inside) return "";
        // "must be > 0 (got inf)" would read as if infinity were too small.
        return fmt::format("must be {}{} (got {})", std::isfinite(v) ? "" : "a finite number ",
                           limit, text);
      },
      // ASCII in the help, whose columns CLI11 aligns by bytes.
      std::isinf(high) && !low_open ? fmt::format(">= {}", low) : limit);
}

// Anything but 0, which `why` says is no use.
inline CLI::Validator nonzero(const std::string& why) {
  return CLI::Validator(
      [why](std::string& text) -> std::string {
        double v = 1;
        return detail::parse_number(text, v) && v == 0 ? "must not be 0 (" + why + ")" : "";
      },
      "NONZERO");
}

inline CLI::Validator at_least(double low) {
  return in_range(low, std::numeric_limits<double>::infinity());
}
inline CLI::Validator positive() {
  return in_range(0, std::numeric_limits<double>::infinity(), true);
}

}  // namespace ls::cli
