#pragma once
// Loading what the subcommands work on: a model folder, its tokenizer, and adapters given as
// DIR or DIR@SCALE.
#include <memory>
#include <string>
#include <vector>

#include "gpt2/bpe/tokenizer.h"
#include "gpt2/checkpoint.h"
#include "lora/lora.h"

namespace ls {

struct AdapterSpec {
  std::string dir;
  float scale = 1.0f;
  // "DIR" or "DIR@SCALE". Text that names an existing folder is that folder, @ and all;
  // otherwise what follows the last @ must be a number. When both readings exist the text is
  // refused: "DIR@1" forces the folder, "DIR/@SCALE" the scale.
  static AdapterSpec parse(const std::string& text);
};

struct Workspace {
  std::unique_ptr<GPT2> model;
  std::vector<std::shared_ptr<LoraAdapter>> adapters;  // attached, in command-line order
  // Loads the model folder and attaches each adapter with its scale.
  static Workspace open(const std::string& model_dir, const std::vector<std::string>& adapters);
};

// The tokenizer stored in a model folder, with a clear error when it has none or when it has
// more tokens than the folder's config.json allows.
Tokenizer load_tokenizer(const std::string& model_dir);
// Parses "15496,11,995" into ids.
std::vector<int32_t> parse_ids(const std::string& text);

}  // namespace ls
