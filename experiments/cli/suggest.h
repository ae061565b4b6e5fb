#pragma once
// Help for misspelt command lines: CLI11 says "The following argument was not expected" and
// leaves the user to find the right spelling.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ls::cli {

// Edit distance counting an insertion, deletion, substitution or swap of neighbours as one.
size_t edit_distance(const std::string& a, const std::string& b);

// The message for the first unknown subcommand or --option in `args` (argv without the program
// name), naming the nearest known one ("did you mean 'train'?"); empty when all are known.
std::string unknown_word_message(const CLI::App& app, const std::vector<std::string>& args);

}  // namespace ls::cli
