#pragma once
// Deterministic synthetic data, so the default experiment needs no outside data: a general
// English corpus for pretraining, and QA examples for three domains (math word problems,
// medical questions, company-filing finance questions) with deliberately distinct vocabularies.
//
// All output depends only on the arguments: the generators use their own PRNG and integer
// arithmetic, so the same seed gives the same bytes on every machine and standard library.
#include <cstdint>
#include <string>
#include <vector>

namespace ls::datagen {

struct QAExample {
  std::string question, answer;
  friend bool operator==(const QAExample&, const QAExample&) = default;
};

// {"math", "medicine", "finance"}.
const std::vector<std::string>& domains();

// `count` examples of `domain`, no two with the same question. Throws InputError for an
// unknown domain or a negative count.
std::vector<QAExample> generate_qa(const std::string& domain, int count, uint64_t seed);

// Train and test sets drawn from one pool of distinct questions, so they never share one.
struct QASplit {
  std::vector<QAExample> train, test;
};
QASplit generate_qa_split(const std::string& domain, int train_count, int test_count,
                          uint64_t seed);

// One {"question": ..., "answer": ...} JSON object per line, written atomically.
void write_jsonl(const std::string& path, const std::vector<QAExample>& examples);
// Reads such a file back (InputError naming file and line for a malformed one).
std::vector<QAExample> read_jsonl(const std::string& path);

// About `approx_bytes` (never less, at most one sentence more) of general English prose:
// stories, descriptions of places, history-like and nature articles, and dialogue.
std::string generate_general_corpus(size_t approx_bytes, uint64_t seed);

}  // namespace ls::datagen
