// GPT-2's byte-level BPE: exact ids against reference encoders, the trainer, and the files.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "gpt2/bpe/bpe_text.h"
#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/bpe/tokenizer.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tests/fixtures.h"
#include "tests/shared_dir.h"

using namespace ls;
using Catch::Matchers::Contains;

namespace {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed again at scope exit.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("lorasum_test_tokenizer_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

struct Reference {
  std::string text;
  std::vector<int> ids;
};

// Tokenizer folders whose tokens.jsonl holds texts with the ids an independent encoder gives
// them: the committed small BPE (tests/fixtures/bpe_reference.py), and GPT-2's own (OpenAI's
// encoder) when ../shared has it.
std::vector<std::string> reference_dirs() {
  std::vector<std::string> dirs = {test::fixture_path("tokenizer")};
  if (test::shared_exists("data/gpt2-tokenizer/tokens.jsonl"))
    dirs.push_back(test::shared_path("data/gpt2-tokenizer"));
  return dirs;
}

std::vector<Reference> reference_ids(const std::string& dir) {
  std::vector<Reference> refs;
  std::istringstream lines(read_file(dir + "/tokens.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    refs.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int>>()});
  }
  return refs;
}

// Texts whose bytes must come back unchanged: control bytes, invalid UTF-8 of several kinds
// (stray continuation, truncated sequence, overlong form, bytes never valid), emoji, scripts.
std::vector<std::string> awkward_texts() {
  std::vector<std::string> texts = {std::string("nul\0inside\0", 11),
                                    "\xff\xfe\xfd",
                                    "lone \x80 continuation",
                                    "truncated \xe2\x82",
                                    "overlong \xc0\xaf slash",
                                    "emoji 😀👍🏽 🚀 ❤️ flags 🇫🇷",
                                    "日本語 Ελληνικά русский العربية",
                                    "\t\r\n\v\f  \u00a0\u3000 spaces",
                                    "'s'S''ll 've",
                                    "<|endoftext",
                                    "endoftext|>",
                                    "<|endoftext|>",
                                    ""};
  std::mt19937 rng(7);
  std::string random(20000, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  texts.push_back(random);
  return texts;
}

// The merges' results (tokens 256.. except "<|endoftext|>"), in id order.
std::vector<std::string> merged_tokens(const Tokenizer& tok) {
  std::vector<std::string> tokens;
  for (int id = 256; id < tok.vocab_size(); ++id)
    if (id != tok.eot_id()) tokens.push_back(tok.token(id));
  return tokens;
}

// The trainer's definition without its bookkeeping: recount every pair after every merge and
// take the most frequent, ties to the smaller (left, right) ids, skipping pairs that would
// spell an existing token.
std::vector<std::string> naive_training(std::string_view corpus, int merges) {
  std::map<std::string, int64_t> counts;
  pretokenize(corpus, [&](std::string_view piece, bool special) {
    if (!special) ++counts[std::string(piece)];
  });
  std::vector<std::pair<std::vector<int>, int64_t>> words;
  for (const auto& [piece, count] : counts) {
    auto& word = words.emplace_back(std::vector<int>{}, count);
    for (unsigned char byte : piece) word.first.push_back(byte);
  }
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  std::set<std::string> known(tokens.begin(), tokens.end());
  std::vector<std::string> made;
  while (static_cast<int>(made.size()) < merges) {
    std::map<std::pair<int, int>, int64_t> pairs;
    for (const auto& [s, count] : words)
      for (size_t i = 0; i + 1 < s.size(); ++i) pairs[{s[i], s[i + 1]}] += count;
    std::pair<int, int> best{-1, -1};
    int64_t best_count = 0;
    for (const auto& [pair, count] : pairs) {
      bool exists = known.count(tokens[pair.first] + tokens[pair.second]);
      if (count > best_count && !exists) best = pair, best_count = count;
    }
    if (best_count == 0) break;
    int id = static_cast<int>(tokens.size());
    tokens.push_back(tokens[best.first] + tokens[best.second]);
    known.insert(tokens.back());
    made.push_back(bytes_to_symbols(tokens.back()));
    for (auto& [s, count] : words) {
      std::vector<int> merged;
      for (size_t i = 0; i < s.size(); ++i) {
        bool hit = i + 1 < s.size() && s[i] == best.first && s[i + 1] == best.second;
        merged.push_back(hit ? id : s[i]);
        i += hit;
      }
      s = merged;
    }
  }
  return made;
}

const char* kParagraphs =
    "The history of the river is the history of the town. In the spring the water rises, and "
    "the people of the town watch the banks and the bridges. When the water falls again, the "
    "fields are rich and the farmers are glad.\n\n"
    "There is a mill on the river, and the miller and his daughter live there. The daughter "
    "reads the old books of the town, and she writes down the stories of the river and the "
    "floods, the years of plenty and the years of hunger.\n\n"
    "In 1888 the great flood came. The water rose for 9 days and 9 nights; the bridge fell, "
    "the mill stood. Ask the old people about it and they'll tell you: \"It's the river's "
    "town, we're only its guests.\"\n";

// Hand-counted: see the test that uses it.
const char* kHugCorpus = "hug hug hug hug pug pug bun bun bun hugs";

std::string load_error(const std::string& dir) {
  try {
    Tokenizer::load(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("byte-level BPE encodes exactly as the reference encoder", "[tokenizer]") {
  Tokenizer bytes_only = Tokenizer::from_merges({});
  for (const std::string& dir : reference_dirs()) {
    INFO(dir);
    Tokenizer tok = Tokenizer::load(dir);
    CHECK(tok.eot_id() == tok.vocab_size() - 1);
    CHECK(tok.token(tok.eot_id()) == "<|endoftext|>");
    for (const Reference& ref : reference_ids(dir)) {
      INFO(ref.text);
      CHECK(tok.encode(ref.text) == ref.ids);
      CHECK(tok.decode(ref.ids) == ref.text);
    }
    // The special token is split out before the regex, whatever surrounds it.
    std::vector<int> expected = tok.encode("Hello");
    expected.push_back(tok.eot_id());
    for (int id : tok.encode("world")) expected.push_back(id);
    CHECK(tok.encode("Hello<|endoftext|>world") == expected);
    for (const std::string& text : awkward_texts()) CHECK(tok.decode(tok.encode(text)) == text);
    // The trainer's byte tokens take GPT-2's ids.
    for (int id = 0; id < 256; ++id) CHECK(bytes_only.token(id) == tok.token(id));
  }
}

TEST_CASE("a reference tokenizer saved as vocab.json + merges.txt loads back identical",
          "[tokenizer]") {
  for (const std::string& dir : reference_dirs()) {
    INFO(dir);
    Tokenizer tok = Tokenizer::load(dir);
    TempDir saved("reference");
    tok.save(saved.path);
    CHECK(Tokenizer::exists_in(saved.path));
    CHECK(read_file(saved.file("merges.txt")).starts_with("#version: 0.2\nĠ t\n"));
    Tokenizer loaded = Tokenizer::load(saved.path);
    REQUIRE(loaded.vocab_size() == tok.vocab_size());
    CHECK(loaded.eot_id() == tok.eot_id());
    for (const Reference& ref : reference_ids(dir)) CHECK(loaded.encode(ref.text) == ref.ids);
  }
}

TEST_CASE("training makes the hand-counted merges", "[tokenizer]") {
  // Words: "hug", " hug" x3, " pug" x2, " bun" x3, " hugs". Pair counts: (u,g) 7 first; then
  // (h,ug) 5; (Ġ,hug) 4; three pairs tie at 3 and go in id order: (Ġ,b) as space < 'b', then
  // (u,n) as 'u' < the new "Ġb", then (Ġb,un); the two at 2 likewise; (Ġhug,s) last.
  Tokenizer tok = train_bpe(kHugCorpus, 300);
  std::vector<std::string> expected = {"ug",   "hug", "Ġhug", "Ġb",   "un",
                                       "Ġbun", "Ġp",  "Ġpug", "Ġhugs"};
  CHECK(merged_tokens(tok) == expected);
  CHECK(tok.vocab_size() == 256 + 9 + 1);  // the corpus ran out of pairs before 300
  CHECK(tok.eot_id() == tok.vocab_size() - 1);
  CHECK(tok.token(tok.eot_id()) == "<|endoftext|>");
  CHECK(tok.encode(" hugs hug bun") == std::vector<int>{264, 258, 261});
  // Asking for fewer stops after the first merges.
  CHECK(merged_tokens(train_bpe(kHugCorpus, 260)) == std::vector<std::string>{"ug", "hug", "Ġhug"});
}

TEST_CASE("training on prose learns its common words", "[tokenizer]") {
  Tokenizer tok = train_bpe(kParagraphs, 400);
  CHECK(tok.vocab_size() == 400);
  CHECK(tok.eot_id() == 399);
  // " the" is by far the most frequent word, and merges build it within the first few.
  std::vector<std::string> merged = merged_tokens(tok);
  auto the = std::find(merged.begin(), merged.end(), "Ġthe");
  REQUIRE(the != merged.end());
  CHECK(the - merged.begin() < 5);
  for (const char* word : {" the", " river", " town", " and", " of"})
    CHECK(tok.encode(word).size() == 1);
  CHECK(tok.decode(tok.encode(kParagraphs)) == kParagraphs);
  CHECK(tok.encode(kParagraphs).size() * 3 < std::string_view(kParagraphs).size());
}

TEST_CASE("the trainer's incremental counts equal recounting every step", "[tokenizer]") {
  for (int vocab : {300, 600}) {
    INFO("vocab " << vocab);
    CHECK(merged_tokens(train_bpe(kParagraphs, vocab)) == naive_training(kParagraphs, vocab - 257));
  }
  std::string awkward;
  for (const std::string& text : awkward_texts()) awkward += text + " ";
  CHECK(merged_tokens(train_bpe(awkward, 500)) == naive_training(awkward, 500 - 257));
}

TEST_CASE("any bytes survive encode then decode", "[tokenizer]") {
  Tokenizer tok = train_bpe(kParagraphs, 350);
  for (const std::string& text : awkward_texts()) {
    std::vector<int> ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
  }
  CHECK(tok.encode("").empty());
  CHECK_THROWS_AS(tok.decode({tok.vocab_size()}), InputError);
  CHECK_THROWS_AS(tok.decode({-1}), InputError);
}

TEST_CASE("<|endoftext|> is one token and never trained on", "[tokenizer]") {
  std::string corpus;
  for (int i = 0; i < 50; ++i) corpus += "<|endoftext|>";
  corpus += "ab ab<|endoftext|>";
  Tokenizer tok = train_bpe(corpus, 1000);
  CHECK(merged_tokens(tok) == std::vector<std::string>{"ab", "Ġab"});
  int eot = tok.eot_id();
  CHECK(tok.encode("<|endoftext|>") == std::vector<int>{eot});
  CHECK(tok.encode("ab<|endoftext|><|endoftext|> ab") == std::vector<int>{256, eot, eot, 257});
  CHECK(tok.decode({eot}) == "<|endoftext|>");
  std::vector<int> partial = tok.encode("<|endoftext");
  CHECK(std::find(partial.begin(), partial.end(), eot) == partial.end());
  CHECK_THROWS_AS(train_bpe(corpus, 256), InputError);
}

TEST_CASE("a trained tokenizer saves and loads back identical", "[tokenizer]") {
  Tokenizer tok = train_bpe(kParagraphs, 380);
  TempDir dir("trained");
  tok.save(dir.path);
  auto vocab = nlohmann::json::parse(read_file(dir.file("vocab.json")));
  CHECK(vocab.size() == 380);
  CHECK(vocab["<|endoftext|>"] == 379);
  CHECK(read_file(dir.file("merges.txt")).starts_with("#version: 0.2\n"));
  Tokenizer loaded = Tokenizer::load(dir.path);
  CHECK(merged_tokens(loaded) == merged_tokens(tok));
  CHECK(loaded.eot_id() == tok.eot_id());
  for (const std::string& text : awkward_texts()) CHECK(loaded.encode(text) == tok.encode(text));
  CHECK(loaded.encode(kParagraphs) == tok.encode(kParagraphs));
}

TEST_CASE("malformed tokenizer files are rejected naming the file", "[tokenizer]") {
  TempDir dir("malformed");
  CHECK_FALSE(Tokenizer::exists_in(dir.path));
  CHECK_THAT(load_error(dir.path), Contains(dir.path) && Contains("vocab.json + merges.txt"));
  train_bpe(kHugCorpus, 300).save(dir.path);
  const std::string vocab = read_file(dir.file("vocab.json"));
  const std::string merges = read_file(dir.file("merges.txt"));
  auto load_with = [&](const std::string& vocab_text, const std::string& merges_text) {
    write_file_atomic(dir.file("vocab.json"), vocab_text);
    write_file_atomic(dir.file("merges.txt"), merges_text);
    return load_error(dir.path);
  };
  auto with_vocab = [&](const std::string& text) { return load_with(text, merges); };
  auto with_merges = [&](const std::string& text) { return load_with(vocab, text); };
  CHECK_THAT(with_vocab("{\"a\": 0,"), Contains("vocab.json: not valid JSON"));
  CHECK_THAT(with_vocab("[1, 2]"), Contains("vocab.json: expected a JSON object"));
  CHECK_THAT(with_vocab("{\"a\": \"zero\"}"),
             Contains("vocab.json: token \"a\": expected an integer"));
  CHECK_THAT(with_vocab("{\"a\": 1.5}"), Contains("vocab.json: token \"a\": expected an integer"));
  CHECK_THAT(with_vocab("{\"a\": 0, \"b\": 0}"), Contains("vocab.json: id 0 belongs to both"));
  CHECK_THAT(with_vocab("{\"a\": 0, \"b\": 7}"), Contains("vocab.json: token \"b\" has id 7"));
  CHECK_THAT(load_with("{\"a\": 0}", ""), Contains("vocab.json: no token for byte 0x00"));
  auto edited = nlohmann::json::parse(vocab);
  edited.erase("<|endoftext|>");
  CHECK_THAT(with_vocab(edited.dump()), Contains("vocab.json: no \"<|endoftext|>\" token"));
  edited["€"] = edited.size();
  CHECK_THAT(with_vocab(edited.dump()),
             Contains("vocab.json: token \"€\" (id 265) has characters"));
  CHECK_THAT(with_merges("#version: 0.2\nu g\nh\n"), Contains("merges.txt:3: expected two tokens"));
  CHECK_THAT(with_merges("u g\nh ug x\n"), Contains("merges.txt:2: expected two tokens"));
  CHECK_THAT(with_merges("u  g\n"), Contains("merges.txt:1: expected two tokens"));
  CHECK_THAT(with_merges("u g\n\nh ug\n"), Contains("merges.txt:2: expected two tokens"));
  CHECK_THAT(with_merges("u g\nqq z\n"), Contains("merges.txt:2: token \"qq\" is not in"));
  CHECK_THAT(with_merges("u g\nh u\n"), Contains("merges.txt:2: token \"hu\" is not in"));
  CHECK_THAT(with_merges("u g\nu g\n"), Contains("merges.txt:2: merge \"u g\" repeats line 1"));
  // Windows line endings and a missing version line are accepted.
  CHECK(with_merges("u g\r\nh ug\r\n") == "(no error)");
  fs::remove(dir.file("merges.txt"));
  CHECK_FALSE(Tokenizer::exists_in(dir.path));
  CHECK_THAT(load_error(dir.path), Contains("merges.txt: not found"));
}
