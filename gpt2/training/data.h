#pragma once
// Training and evaluation data: QA JSONL files and plain text, tokenized into examples and
// batched with padding. Padding never counts: its targets are ignore_index.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gpt2/bpe/tokenizer.h"
#include "tensor/ops.h"  // kIgnoreIndex

namespace ls {

// How load_examples reads a file (--format).
enum class DataFormat {
  automatic,  // a *.jsonl name (any case) is QA JSONL; any other file is QA JSONL when its
              // first non-blank line is a JSON object (a note says so), else plain text
  jsonl,
  text,
};

// One tokenized training sequence. Tokens before `loss_start` are context only. When `labels`
// is set (a layout whose targets are not the next tokens), target t is labels[t + 1] instead
// of tokens[t + 1], and every position counts.
struct Example {
  std::vector<int32_t> tokens;
  int64_t loss_start = 0;
  std::vector<int32_t> labels;
};

// Turns one QA record's question and answer into an example: a layout other than
// load_qa_jsonl's own.
using QaLayout = std::function<Example(const std::string& question, const std::string& answer,
                                       const Tokenizer& tokenizer)>;

struct TextFormat {
  std::string question_field = "question";
  std::string answer_field = "answer";
  bool loss_on_answer_only = false;  // --loss-on answer
  DataFormat data_format = DataFormat::automatic;
  QaLayout qa_layout = {};  // empty: load_qa_jsonl's layout
};

// Each line {"question": ..., "answer": ...} becomes
// "Question: {question}\nAnswer: {answer}<|endoftext|>". Malformed lines are reported with
// file and line number; an empty file is refused. format.qa_layout, when set, makes the
// examples instead (loss_on_answer_only then does not apply).
std::vector<Example> load_qa_jsonl(const std::string& path, const Tokenizer& tokenizer,
                                   const TextFormat& format = {});
// Plain text cut into consecutive windows of seq_len + 1 tokens (overlapping by one so every
// token is predicted once).
std::vector<Example> load_plain_text(const std::string& path, const Tokenizer& tokenizer,
                                     int64_t seq_len);
std::vector<Example> text_windows(const std::vector<int32_t>& tokens, int64_t seq_len);

// Throws InputError naming path:line when `text` is not UTF-8. A byte-level BPE would take any
// bytes, but a data file that is not UTF-8 is in some other encoding and would train on noise.
void require_utf8(std::string_view text, const std::string& path);

// QA JSONL or plain text as format.data_format says, for sequences of seq_len tokens. Prints a
// note on stderr when examples are truncated to seq_len; throws InputError naming the file when
// none keeps a counted token (--loss-on answer with every answer past seq_len).
std::vector<Example> load_examples(const std::string& path, const Tokenizer& tokenizer,
                                   const TextFormat& format, int64_t seq_len);

// What the first seq_len + 1 tokens of each example (the most a batch keeps) leave out.
struct Truncation {
  int64_t truncated = 0;  // examples that lose tokens
  int64_t uncounted = 0;  // examples left with no counted token
};
Truncation count_truncation(const std::vector<Example>& examples, int64_t seq_len);

struct Batch {
  std::vector<int32_t> ids, targets;  // (B, T) row-major
  int64_t batch = 0, seq = 0;
  int64_t counted_tokens() const;
};

// Inputs tokens[0..T), targets tokens[1..T], truncated to seq_len, padded to the longest.
Batch make_batch(const std::vector<Example>& examples, const std::vector<size_t>& indices,
                 int64_t seq_len, int32_t pad_id);

// How an epoch's examples are grouped into micro-batches (--batching).
enum class BatchOrder {
  random,     // consecutive slices of a shuffle
  by_length,  // examples of similar length together, in a random order (little padding)
};

// One epoch's micro-batches as example indices, a pure function of the seed. by_length cuts
// the shuffle into pools of kLengthPool batches, sorts each pool by length, cuts it into
// batches and shuffles all the batches again.
constexpr int64_t kLengthPool = 32;
const char* batching_name(BatchOrder order);  // "random" or "by-length", as --batching spells it
BatchOrder parse_batching(const std::string& name);
std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, int64_t batch,
                                               uint64_t seed, BatchOrder order);

// Deterministic permutation of 0..n-1 (Fisher–Yates with the project's Rng).
std::vector<size_t> shuffled_indices(size_t n, uint64_t seed);
// Deterministic split into (train, validation) with `validation_fraction` of the examples.
std::pair<std::vector<Example>, std::vector<Example>> split_examples(
    const std::vector<Example>& examples, double validation_fraction, uint64_t seed);

}  // namespace ls
