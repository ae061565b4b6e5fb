// The synthetic data generators: determinism, distinctness, correct arithmetic, distinct
// domain vocabularies, and the output formats.
//
// GCC 12 reports false -Wmaybe-uninitialized warnings inside <regex> under the sanitizers
// (GCC bug 105616); silence them here rather than in every sanitizer build's log.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "experiments/datagen/datagen.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

using namespace ls::datagen;

namespace {

uint64_t fnv1a(const std::string& text, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t hash_examples(const std::vector<QAExample>& examples) {
  uint64_t h = fnv1a("");
  for (const auto& e : examples) h = fnv1a(e.question + '\n' + e.answer + '\n', h);
  return h;
}

// Lowercase alphabetic words; digits and punctuation are not vocabulary.
std::set<std::string> word_set(const std::string& text) {
  std::set<std::string> out;
  std::string word;
  for (char c : text + ' ') {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      out.insert(word);
      word.clear();
    }
  }
  return out;
}

double jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
  size_t shared = 0;
  for (const auto& w : a) shared += b.count(w);
  return static_cast<double>(shared) / static_cast<double>(a.size() + b.size() - shared);
}

int64_t to_int(std::string digits) {
  std::erase(digits, ',');
  std::erase(digits, '$');
  return std::stoll(digits);
}

int64_t stated_answer(const std::string& answer) {
  std::smatch m;
  REQUIRE(std::regex_search(answer, m, std::regex(R"(The answer is (\d+)\.$)")));
  return to_int(m[1]);
}

}  // namespace

TEST_CASE("datagen: output depends only on the seed", "[datagen]") {
  for (const auto& domain : domains()) {
    CAPTURE(domain);
    auto a = generate_qa(domain, 300, 1);
    REQUIRE(a == generate_qa(domain, 300, 1));
    REQUIRE(a != generate_qa(domain, 300, 2));
    // A prefix of a longer request is the same data: sizes can change without reshuffling.
    auto longer = generate_qa(domain, 400, 1);
    REQUIRE(std::equal(a.begin(), a.end(), longer.begin()));
  }
  std::string corpus = generate_general_corpus(50000, 1);
  REQUIRE(corpus == generate_general_corpus(50000, 1));
  REQUIRE(corpus != generate_general_corpus(50000, 2));
}

TEST_CASE("datagen: output is pinned across machines and standard libraries", "[datagen]") {
  // The generators use their own PRNG and integer arithmetic, so these hashes must hold on every
  // platform. Editing a template or word table changes them: update them in the same change.
  CHECK(hash_examples(generate_qa("math", 100, 2024)) == 0x5f8c9f11ae934767ull);
  CHECK(hash_examples(generate_qa("medicine", 100, 2024)) == 0x24b4e3af455b2833ull);
  CHECK(hash_examples(generate_qa("finance", 100, 2024)) == 0x4f75347158ee0cefull);
  CHECK(fnv1a(generate_general_corpus(20000, 2024)) == 0xfa85b90925853b18ull);
}

TEST_CASE("datagen: questions are distinct and splits never overlap", "[datagen]") {
  for (const auto& domain : domains()) {
    CAPTURE(domain);
    auto examples = generate_qa(domain, 6000, 9);  // the study needs >= 5000 per domain
    std::set<std::string> questions;
    for (const auto& e : examples) questions.insert(e.question);
    REQUIRE(questions.size() == examples.size());

    auto split = generate_qa_split(domain, 2000, 500, 3);
    REQUIRE(split.train.size() == 2000);
    REQUIRE(split.test.size() == 500);
    std::set<std::string> train;
    for (const auto& e : split.train) train.insert(e.question);
    for (const auto& e : split.test) REQUIRE(train.count(e.question) == 0);
  }
}

TEST_CASE("datagen: bad requests are input errors", "[datagen]") {
  REQUIRE_THROWS_AS(generate_qa("law", 10, 1), ls::InputError);
  REQUIRE_THROWS_AS(generate_qa("math", -1, 1), ls::InputError);
  REQUIRE_THROWS_AS(generate_qa_split("math", 10, -1, 1), ls::InputError);
  REQUIRE(generate_qa("math", 0, 1).empty());
}

TEST_CASE("datagen: every math working line is correct arithmetic", "[datagen]") {
  // Each "a op b op c = d" is evaluated left to right, and the last one gives the answer.
  const std::regex equation(R"((\$?\d+(?: [-+*/] \$?\d+)+) = \$?(\d+))");
  const std::regex term(R"(([-+*/]) \$?(\d+))");
  for (const auto& e : generate_qa("math", 2000, 5)) {
    CAPTURE(e.question, e.answer);
    int64_t last = -1;
    int equations = 0;
    for (std::sregex_iterator it(e.answer.begin(), e.answer.end(), equation), end; it != end;
         ++it, ++equations) {
      std::string lhs = (*it)[1];
      int64_t value = to_int(lhs.substr(0, lhs.find(' ')));
      for (std::sregex_iterator t(lhs.begin(), lhs.end(), term); t != end; ++t) {
        int64_t operand = to_int((*t)[2]);
        switch (std::string((*t)[1])[0]) {
          case '+':
            value += operand;
            break;
          case '-':
            value -= operand;
            break;
          case '*':
            value *= operand;
            break;
          case '/':
            REQUIRE(value % operand == 0);  // worked answers never round
            value /= operand;
            break;
        }
      }
      REQUIRE(value == to_int((*it)[2]));
      last = value;
    }
    REQUIRE(equations > 0);
    REQUIRE(stated_answer(e.answer) == last);
  }
}

TEST_CASE("datagen: math answers match a recomputation from the question", "[datagen]") {
  struct Check {
    std::regex pattern;
    std::function<int64_t(const std::smatch&)> solve;
    int matched = 0;
  };
  std::vector<Check> checks = {
      {std::regex(R"(buys (\d+) .+ at \$(\d+) each and pays with a \$(\d+) bill)"),
       [](const std::smatch& m) { return to_int(m[3]) - to_int(m[1]) * to_int(m[2]); }},
      {std::regex(R"(at (\d+) kilometers per hour for (\d+) hours and then at (\d+) kilometers )"
                  R"(per hour for (\d+) hours)"),
       [](const std::smatch& m) {
         return to_int(m[1]) * to_int(m[2]) + to_int(m[3]) * to_int(m[4]);
       }},
      {std::regex(R"(usually costs \$(\d+)\. The store is selling it at (\d+)% off)"),
       [](const std::smatch& m) {
         double price = to_int(m[1]) * (1.0 - to_int(m[2]) / 100.0);
         return static_cast<int64_t>(std::llround(price));
       }},
  };
  for (const auto& e : generate_qa("math", 3000, 6)) {
    for (auto& check : checks) {
      std::smatch m;
      if (!std::regex_search(e.question, m, check.pattern)) continue;
      CAPTURE(e.question, e.answer);
      REQUIRE(stated_answer(e.answer) == check.solve(m));
      ++check.matched;
    }
  }
  for (const auto& check : checks) REQUIRE(check.matched >= 50);
}

TEST_CASE("datagen: finance figures match a recomputation from the question", "[datagen]") {
  const std::regex growth(
      R"(revenue of \$([\d,]+) million for fiscal \d+ and \$([\d,]+) million for fiscal)");
  const std::regex interest(R"(puts \$([\d,.]+) into .+ earns ([\d.]+)% a year, compounded )"
                            R"(annually\. What is the balance after (\d) years)");
  int growth_seen = 0, interest_seen = 0;
  for (const auto& e : generate_qa("finance", 3000, 8)) {
    CAPTURE(e.question, e.answer);
    std::smatch m, got;
    if (std::regex_search(e.question, m, growth)) {
      double a = to_int(m[1]), b = to_int(m[2]);
      REQUIRE(std::regex_search(e.answer, got, std::regex(R"(= (-?[\d.]+)%)")));
      REQUIRE(std::stod(got[1]) == Approx(100.0 * (b - a) / a).margin(0.0501));
      ++growth_seen;
    } else if (std::regex_search(e.question, m, interest)) {
      std::string principal = m[1];
      std::erase(principal, ',');
      double expected =
          std::stod(principal) * std::pow(1.0 + std::stod(m[2]) / 100.0, std::stoi(m[3]));
      REQUIRE(std::regex_search(e.answer, got, std::regex(R"(years is \$([\d,.]+),)")));
      std::string final_balance = got[1];
      std::erase(final_balance, ',');
      // The answer rounds to cents every year, as a bank does: a few cents from the formula.
      REQUIRE(std::stod(final_balance) == Approx(expected).margin(0.05));
      ++interest_seen;
    }
  }
  REQUIRE(growth_seen >= 50);
  REQUIRE(interest_seen >= 50);
}

TEST_CASE("datagen: domains have distinct vocabularies and sensible lengths", "[datagen]") {
  // Shared words should be function words only. Each domain uses 350-1,200 distinct words in
  // 500 examples and the pairs share about 40-170 (about 0.04-0.08 Jaccard); 0.15 still means
  // at least 85% of any two domains' joint vocabulary belongs to only one of them.
  std::vector<std::set<std::string>> vocab;
  for (const auto& domain : domains()) {
    std::string text;
    for (const auto& e : generate_qa(domain, 500, 11)) {
      text += e.question + ' ' + e.answer + ' ';
      std::istringstream words(e.question + ' ' + e.answer);
      int count = 0;
      for (std::string w; words >> w;) ++count;
      CAPTURE(domain, e.question, e.answer);
      REQUIRE(count >= 25);
      REQUIRE(count <= 130);
    }
    vocab.push_back(word_set(text));
  }
  vocab.push_back(word_set(generate_general_corpus(1 << 20, 3)));
  REQUIRE(vocab.back().size() >= 800);  // a lexicon of hundreds of words, not a handful
  for (size_t i = 0; i < vocab.size(); ++i) {
    for (size_t j = i + 1; j < vocab.size(); ++j) {
      CAPTURE(i, j);
      REQUIRE(jaccard(vocab[i], vocab[j]) < 0.15);
    }
  }
}

TEST_CASE("datagen: corpus has the requested size and varied sentences", "[datagen]") {
  for (size_t bytes : {10'000u, 100'000u, 1'000'000u}) {
    std::string corpus = generate_general_corpus(bytes, 4);
    REQUIRE(corpus.size() >= bytes);
    REQUIRE(corpus.size() <= bytes + bytes / 10);
  }
  REQUIRE(generate_general_corpus(0, 4).empty());

  std::string corpus = generate_general_corpus(1'000'000, 5);
  std::set<std::string> sentences;
  size_t total = 0, start = 0;
  for (size_t end; (end = corpus.find(". ", start)) != std::string::npos; start = end + 2, ++total)
    sentences.insert(corpus.substr(start, end - start));
  REQUIRE(total > 5000);
  REQUIRE(sentences.size() > total / 2);
}

TEST_CASE("datagen: write_jsonl round-trips through a JSON parser", "[datagen]") {
  auto examples = generate_qa("finance", 20, 1);
  examples.push_back({"A \"quoted\"\nquestion\twith \\ escapes?", "Caf\u00e9 \u2013 fine."});
  std::string path = (std::filesystem::temp_directory_path() /
                      ("lorasum_datagen_" + std::to_string(::getpid()) + ".jsonl"))
                         .string();
  write_jsonl(path, examples);
  std::istringstream lines(ls::read_file(path));
  std::filesystem::remove(path);
  size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    REQUIRE(i < examples.size());
    auto json = nlohmann::json::parse(line);
    REQUIRE(json.size() == 2);
    REQUIRE(json.at("question") == examples[i].question);
    REQUIRE(json.at("answer") == examples[i].answer);
  }
  REQUIRE(i == examples.size());
}
