#pragma once
// --precision, shared by the commands that train, evaluate or generate.
#include <CLI/CLI.hpp>

#include "tensor/precision.h"

namespace ls::cli {

inline constexpr const char* kProductPrecisionHelp =
    "Matrix products in f32, or bf16 inputs with f32 sums (weights, optimizer state, softmax, "
    "layer norm and loss stay f32)";

inline void add_precision_flag(CLI::App* cmd, Precision& precision,
                               const char* help = kProductPrecisionHelp) {
  cmd->add_option_function<std::string>(
         "--precision",
         [&precision](const std::string& name) { precision = *parse_precision(name); }, help)
      ->default_str(precision_name(precision))
      ->check(CLI::IsMember({"f32", "bf16"}));
}

}  // namespace ls::cli
