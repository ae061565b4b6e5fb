// Tokenizer files: reading the Hugging Face and OpenAI pairs, writing the Hugging Face one.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gpt2/bpe/bpe_text.h"
#include "gpt2/bpe/tokenizer.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/json_brief.h"

namespace ls {

namespace {

namespace fs = std::filesystem;

struct FilePair {
  const char* vocab;
  const char* merges;
};
// Hugging Face first: when a folder has both, its pair is the one transformers reads.
constexpr FilePair kFilePairs[] = {{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}};

using TokenIds = std::unordered_map<std::string, int>;

// vocab.json: one object mapping each token to its id; the ids must be exactly 0..N-1.
std::vector<std::string> read_vocab(const std::string& path, TokenIds& ids) {
  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e400
    input_error("{}: not valid JSON: {}", path, e.what());
  }
  if (!vocab.is_object())
    input_error("{}: expected a JSON object mapping tokens to ids, got {}", path,
                vocab.type_name());
  const int64_t size = static_cast<int64_t>(vocab.size());
  std::vector<std::string> tokens(size);
  std::vector<bool> taken(size, false);
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer())
      input_error("{}: token \"{}\": expected an integer id, got {}", path, token,
                  json_brief(value));
    int64_t id = value.get<int64_t>();
    if (id < 0 || id >= size)
      input_error("{}: token \"{}\" has id {}; expected ids 0..{}, one per token", path, token, id,
                  size - 1);
    if (taken[id])
      input_error("{}: id {} belongs to both \"{}\" and \"{}\"", path, id, tokens[id], token);
    taken[id] = true;
    tokens[id] = token;
    ids.emplace(token, static_cast<int>(id));
  }
  return tokens;
}

// merges.txt: an optional "#version" line, then one "left right" pair a line, in rank order.
using Merge = Tokenizer::Merge;

std::vector<Merge> read_merges(const std::string& path, const TokenIds& ids,
                               const std::string& vocab_path) {
  const std::string text = read_file(path);
  std::vector<Merge> merges;
  std::unordered_map<std::string, size_t> first_seen;  // merge line -> its line number
  size_t line_no = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("#version")) continue;
    size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos)
      input_error("{}:{}: expected two tokens separated by one space, got \"{}\"", path, line_no,
                  line);
    auto id_of = [&](const std::string& token) {
      auto it = ids.find(token);
      if (it == ids.end())
        input_error("{}:{}: token \"{}\" is not in {}", path, line_no, token, vocab_path);
      return it->second;
    };
    std::string left(line.substr(0, space)), right(line.substr(space + 1));
    auto [seen, fresh] = first_seen.emplace(line, line_no);
    if (!fresh)
      input_error("{}:{}: merge \"{}\" repeats line {}", path, line_no, line, seen->second);
    merges.push_back({id_of(left), id_of(right), id_of(left + right)});
  }
  return merges;
}

}  // namespace

bool Tokenizer::exists_in(const std::string& dir) {
  for (const FilePair& pair : kFilePairs)
    if (fs::exists(fs::path(dir) / pair.vocab) && fs::exists(fs::path(dir) / pair.merges))
      return true;
  return false;
}

Tokenizer Tokenizer::load(const std::string& dir) {
  for (const FilePair& pair : kFilePairs) {
    std::string vocab = fs::path(dir) / pair.vocab, merges = fs::path(dir) / pair.merges;
    bool have_vocab = fs::exists(vocab), have_merges = fs::exists(merges);
    if (have_vocab && have_merges) return load_files(vocab, merges);
    if (have_vocab || have_merges)
      input_error("{}: not found (needed with {})", have_vocab ? merges : vocab,
                  have_vocab ? vocab : merges);
  }
  input_error(
      "{}: no tokenizer files (expected vocab.json + merges.txt or encoder.json + "
      "vocab.bpe)",
      dir);
}

Tokenizer Tokenizer::load_files(const std::string& vocab_path, const std::string& merges_path) {
  TokenIds ids;
  std::vector<std::string> tokens = read_vocab(vocab_path, ids);
  std::vector<Merge> merges = read_merges(merges_path, ids, vocab_path);
  return Tokenizer(std::move(tokens), std::move(merges), vocab_path);
}

void Tokenizer::save(const std::string& dir) const {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) input_error("{}: cannot create folder: {}", dir, error.message());
  // Written by hand rather than through nlohmann::ordered_json, whose inserts are linear.
  std::string vocab = "{";
  for (int id = 0; id < vocab_size(); ++id)
    vocab += fmt::format("{}{}: {}", id ? ", " : "", nlohmann::json(tokens_[id]).dump(), id);
  vocab += "}\n";
  std::string merges = "#version: 0.2\n";
  for (const Merge& m : merges_) merges += tokens_[m.left] + " " + tokens_[m.right] + "\n";
  write_file_atomic((fs::path(dir) / "vocab.json").string(), vocab);
  write_file_atomic((fs::path(dir) / "merges.txt").string(), merges);
}

}  // namespace ls
