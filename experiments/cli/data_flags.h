#pragma once
// The flags of the subcommands that read QA or text data (train, eval).
#include <CLI/CLI.hpp>
#include <string>

#include "gpt2/training/data.h"

namespace ls::cli {

struct DataFlags {
  TextFormat format;
  std::string data_format = "auto", loss_on = "all";
  // The format with --format and --loss-on applied.
  TextFormat resolved() const;
};

// --format, --question-field, --answer-field and --loss-on.
void add_data_flags(CLI::App* cmd, DataFlags& flags);

}  // namespace ls::cli
