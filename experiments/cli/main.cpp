// lorasum: GPT-2 with LoRA adapters, and the naive-LoRA-summation study, in one program.
#include <cstdio>
#include <exception>
#include <filesystem>

#include "experiments/cli/commands.h"
#include "tensor/error.h"
#include "tensor/interrupt.h"

int main(int argc, char** argv) {
  ls::install_interrupt_cleanup();
  CLI::App app{"lorasum — GPT-2 + LoRA from scratch; trains, composes and measures adapters"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  ls::cli::add_info(app);
  ls::cli::add_generate(app);
  ls::cli::add_logits(app);
  ls::cli::add_tokenize(app);
  ls::cli::add_eval(app);
  ls::cli::add_train(app);
  ls::cli::add_pretrain(app);
  ls::cli::add_bench(app);
  ls::cli::add_reproduce(app, argv[0]);
  ls::cli::add_merge(app);
  ls::cli::add_similarity(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const ls::InputError& e) {
    std::fprintf(stderr, "lorasum: error: %s\n", e.what());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or a disk that is full: the user's to fix, not a bug.
    std::fprintf(stderr, "lorasum: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lorasum: error: out of memory\n");
    return 2;
  }
  return 0;
}
