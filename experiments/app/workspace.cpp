#include "experiments/app/workspace.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include "experiments/app/comma_list.h"
#include "tensor/error.h"

namespace ls {

namespace {

// The whole of `text` as a finite float, or nothing.
std::optional<float> parse_scale(const std::string& text) {
  try {
    size_t used = 0;
    float value = std::stof(text, &used);
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {  // not a number, or out of float range
  }
  return std::nullopt;
}

}  // namespace

AdapterSpec AdapterSpec::parse(const std::string& text) {
  namespace fs = std::filesystem;
  size_t at = text.rfind('@');
  if (at == std::string::npos) return {text, 1.0f};
  std::string dir = text.substr(0, at), suffix = text.substr(at + 1);
  std::optional<float> scale = parse_scale(suffix);
  bool whole_is_folder = fs::is_directory(text);
  if (whole_is_folder && scale && fs::is_directory(dir))
    input_error(
        "--adapter {}: ambiguous: both the folder {} and the folder {} at scale {} exist; "
        "write {}@1 for the first or {}/@{} for the second",
        text, text, dir, suffix, text, dir, suffix);
  if (whole_is_folder) return {text, 1.0f};
  if (!scale)
    input_error(
        "--adapter {}: no such folder, and '{}' after the last @ is not a scale (expected "
        "DIR or DIR@SCALE; for a folder whose name has an @, add a scale: {}@1)",
        text, suffix, text);
  return {dir, *scale};
}

Workspace Workspace::open(const std::string& model_dir, const std::vector<std::string>& adapters) {
  Workspace ws;
  ws.model = load_gpt2(model_dir);
  for (const std::string& text : adapters) {
    AdapterSpec spec = AdapterSpec::parse(text);
    auto adapter = LoraAdapter::load(spec.dir, *ws.model);
    adapter->set_weight(spec.scale);
    adapter->attach(*ws.model);
    ws.adapters.push_back(adapter);
  }
  return ws;
}

Tokenizer load_tokenizer(const std::string& model_dir) {
  if (!std::filesystem::is_directory(model_dir)) input_error("{}: no such folder", model_dir);
  if (!Tokenizer::exists_in(model_dir))
    input_error("{}: no tokenizer (expected vocab.json + merges.txt or encoder.json + vocab.bpe)",
                model_dir);
  Tokenizer tokenizer = Tokenizer::load(model_dir);
  // Caught here rather than as an out-of-range id deep inside some batch.
  std::string config_path = (std::filesystem::path(model_dir) / "config.json").string();
  if (std::filesystem::exists(config_path)) {
    int64_t vocab_size = GPT2Config::load(config_path).vocab_size;
    if (tokenizer.vocab_size() > vocab_size)
      input_error("{}: the tokenizer has {} tokens, more than the vocab_size = {} of {}", model_dir,
                  tokenizer.vocab_size(), vocab_size, config_path);
  }
  return tokenizer;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  for (const std::string& item : comma_items(text)) {
    size_t used = 0;
    long value = 0;
    try {
      value = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 0 || value > INT32_MAX)
      input_error("token ids: '{}' is not a non-negative integer (expected e.g. 15496,11,995)",
                  item);
    ids.push_back(static_cast<int32_t>(value));
  }
  if (ids.empty()) input_error("token ids: none given");
  return ids;
}

}  // namespace ls
