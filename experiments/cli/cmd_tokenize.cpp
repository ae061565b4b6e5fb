// lorasum tokenize: text -> ids, or ids -> text.
#include <fmt/format.h>

#include "experiments/app/workspace.h"
#include "experiments/cli/commands.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls::cli {

void add_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize",
                                 "GPT-2 byte-level BPE: print token ids of a text, "
                                 "or the text of ids with --decode");
  static std::string dir, text, file, decode;
  cmd->add_option("--tokenizer", dir,
                  "Folder with vocab.json + merges.txt or encoder.json + "
                  "vocab.bpe")
      ->required();
  auto* t = cmd->add_option("--text", text, "Text to encode");
  auto* f =
      cmd->add_option("--file", file, "File whose contents to encode")->check(CLI::ExistingFile);
  auto* d = cmd->add_option("--decode", decode, "Comma-separated ids to decode");
  t->excludes(f)->excludes(d);
  f->excludes(d);
  cmd->callback([t, f, d] {
    if (t->count() + f->count() + d->count() == 0)
      input_error("tokenize: nothing to do; give --text, --file or --decode");
    Tokenizer tok = load_tokenizer(dir);
    if (!decode.empty()) {
      fmt::print("{}\n", tok.decode(parse_ids(decode)));
      return;
    }
    std::vector<int> ids = tok.encode(file.empty() ? text : read_file(file));
    fmt::print("{}\n", fmt::join(ids, ","));
  });
}

}  // namespace ls::cli
