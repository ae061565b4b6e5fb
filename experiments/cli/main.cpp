// lorasum: GPT-2 with LoRA adapters, and the naive-LoRA-summation study, in one program.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "experiments/cli/commands.h"
#include "experiments/cli/suggest.h"
#include "tensor/distributed.h"
#include "tensor/error.h"
#include "tensor/interrupt.h"

namespace {

// Exit status 2 for the user's mistakes; under mpirun every rank goes with the one that failed,
// rather than waiting for it forever in the next gradient sum.
int input_failure() {
  if (ls::world::launched_size() > 1) ls::world::abort_all(2);
  return 2;
}

// Under mpirun only training spreads over the ranks (and bench times the gradient sum); any
// other command would run N times over the same files.
bool runs_over_mpi(const std::string& command) {
  return command == "train" || command == "pretrain" || command == "bench";
}

}  // namespace

int main(int argc, char** argv) {
  ls::install_interrupt_cleanup();
  if (ls::world::launched_size() > 1 && argc > 1 && !runs_over_mpi(argv[1])) {
    std::fprintf(stderr,
                 "lorasum: error: '%s' runs in one process; under mpirun only train, "
                 "pretrain and bench run (as one data-parallel job)\n",
                 argv[1]);
    return input_failure();
  }
  CLI::App app{"lorasum — GPT-2 + LoRA from scratch; trains, composes and measures adapters",
               "lorasum"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  app.set_version_flag("--version", "lorasum " LORASUM_VERSION);
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
  ls::cli::add_report(app);
  ls::cli::add_predictors(app);
  ls::cli::add_plots(app);
  if (argc == 1) {  // nothing asked: say what there is to ask, and fail like a bad command
    std::fputs(app.help().c_str(), stderr);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all, --version
    std::string unknown = ls::cli::unknown_word_message(app, {argv + 1, argv + argc});
    if (unknown.empty())
      app.exit(e);
    else
      std::fprintf(stderr, "lorasum: error: %s\n", unknown.c_str());
    return input_failure();
  } catch (const ls::InputError& e) {
    std::fprintf(stderr, "lorasum: error: %s\n", e.what());
    return input_failure();
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or a disk that is full: the user's to fix, not a bug.
    std::fprintf(stderr, "lorasum: error: %s\n", e.what());
    return input_failure();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lorasum: error: out of memory\n");
    return input_failure();
  }
  return 0;
}
