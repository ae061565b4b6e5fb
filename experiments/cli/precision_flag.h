#pragma once
// --precision, shared by the commands that train or evaluate.
#include <CLI/CLI.hpp>

#include "tensor/precision.h"

namespace ls::cli {

inline void add_precision_flag(CLI::App* cmd, Precision& precision) {
  cmd->add_option_function<std::string>(
         "--precision",
         [&precision](const std::string& name) { precision = *parse_precision(name); },
         "Matrix products in f32, or bf16 inputs with f32 sums (weights, optimizer state, "
         "softmax, layer norm and loss stay f32)")
      ->default_str(precision_name(precision))
      ->check(CLI::IsMember({"f32", "bf16"}));
}

}  // namespace ls::cli
