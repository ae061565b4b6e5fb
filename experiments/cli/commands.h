#pragma once
// Each subcommand of `lorasum` registers itself on the app; main() only dispatches.
#include <CLI/CLI.hpp>

namespace ls::cli {

void add_info(CLI::App& app);
void add_generate(CLI::App& app);
void add_logits(CLI::App& app);
void add_tokenize(CLI::App& app);
void add_eval(CLI::App& app);
void add_train(CLI::App& app);
void add_pretrain(CLI::App& app);
void add_bench(CLI::App& app);
void add_reproduce(CLI::App& app, const char* argv0);
void add_merge(CLI::App& app);
void add_similarity(CLI::App& app);
void add_report(CLI::App& app);
void add_plots(CLI::App& app);
void add_predictors(CLI::App& app);

}  // namespace ls::cli
