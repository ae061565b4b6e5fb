#include "gpt2/training/data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gpt2/training/note.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/random.h"

namespace ls {

namespace {

std::string field(const nlohmann::json& obj, const std::string& key, const std::string& path,
                  int64_t line) {
  if (!obj.contains(key)) input_error("{}:{}: missing field \"{}\"", path, line, key);
  if (!obj[key].is_string()) input_error("{}:{}: field \"{}\" is not a string", path, line, key);
  return obj[key].get<std::string>();
}

// Length of the UTF-8 character starting at s[i], or 0 when it is not one (RFC 3629: no
// overlong forms, surrogates or code points past U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  unsigned char d = byte(i + 1);
  bool bad_second = (c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) || (c == 0xF0 && d < 0x90) ||
                    (c == 0xF4 && d > 0x8F);
  return bad_second ? 0 : n;
}

}  // namespace

void require_utf8(std::string_view text, const std::string& path) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_length(text, i);
    if (n == 0)
      input_error("{}:{}: not valid UTF-8 (byte 0x{:02x} at column {}); text must be UTF-8", path,
                  line, static_cast<unsigned char>(text[i]), i - line_start + 1);
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
    i += n;
  }
}

std::vector<Example> load_qa_jsonl(const std::string& path, const Tokenizer& tokenizer,
                                   const TextFormat& format) {
  std::string text = read_file(path);
  require_utf8(text, path);
  std::istringstream in(text);
  std::vector<Example> examples;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      input_error("{}:{}: not valid JSON: {}", path, number, e.what());
    }
    if (!obj.is_object()) input_error("{}:{}: expected a JSON object", path, number);
    if (format.qa_layout) {
      examples.push_back(format.qa_layout(field(obj, format.question_field, path, number),
                                          field(obj, format.answer_field, path, number),
                                          tokenizer));
      continue;
    }
    std::string prompt =
        "Question: " + field(obj, format.question_field, path, number) + "\nAnswer:";
    std::string answer = " ";  // appended, not `" " + …`, which trips GCC 12's -Wrestrict
    answer += field(obj, format.answer_field, path, number);
    Example ex;
    ex.tokens = tokenizer.encode(prompt);
    ex.loss_start = format.loss_on_answer_only ? static_cast<int64_t>(ex.tokens.size()) : 0;
    std::vector<int32_t> rest = tokenizer.encode(answer);
    ex.tokens.insert(ex.tokens.end(), rest.begin(), rest.end());
    ex.tokens.push_back(tokenizer.eot_id());
    examples.push_back(std::move(ex));
  }
  if (examples.empty()) input_error("{}: no examples (the file is empty)", path);
  return examples;
}

std::vector<Example> text_windows(const std::vector<int32_t>& tokens, int64_t seq_len) {
  std::vector<Example> out;
  for (size_t start = 0; start + 1 < tokens.size(); start += seq_len) {
    size_t end = std::min(tokens.size(), start + seq_len + 1);
    out.push_back({std::vector<int32_t>(tokens.begin() + start, tokens.begin() + end), 0, {}});
  }
  return out;
}

std::vector<Example> load_plain_text(const std::string& path, const Tokenizer& tokenizer,
                                     int64_t seq_len) {
  std::string text = read_file(path);
  require_utf8(text, path);
  std::vector<Example> out = text_windows(tokenizer.encode(text), seq_len);
  if (out.empty()) input_error("{}: no text to train or evaluate on", path);
  return out;
}

namespace {

bool named_jsonl(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jsonl";
}

bool first_line_is_object(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      return nlohmann::json::parse(line, nullptr, false).is_object();  // no throw: false
  return false;
}

DataFormat resolve_format(const std::string& path, DataFormat requested) {
  if (requested != DataFormat::automatic) return requested;
  if (named_jsonl(path)) return DataFormat::jsonl;
  if (!first_line_is_object(path)) return DataFormat::text;
  // The name says otherwise (qa.json, data.txt): reading it as text would be silently wrong.
  fmt::print(stderr,
             "note: {}: read as QA JSONL since its first line is a JSON object "
             "(--format text reads it as plain text)\n",
             path);
  return DataFormat::jsonl;
}

}  // namespace

Truncation count_truncation(const std::vector<Example>& examples, int64_t seq_len) {
  Truncation t;
  for (const Example& ex : examples) {
    int64_t predicted = static_cast<int64_t>(ex.tokens.size()) - 1;  // targets 1..predicted
    t.truncated += predicted > seq_len;
    // make_batch counts target t + 1 when loss_start <= t + 1 <= min(seq_len, predicted).
    t.uncounted += std::min(seq_len, predicted) < std::max<int64_t>(ex.loss_start, 1);
  }
  return t;
}

std::vector<Example> load_examples(const std::string& path, const Tokenizer& tokenizer,
                                   const TextFormat& format, int64_t seq_len) {
  std::vector<Example> examples = resolve_format(path, format.data_format) == DataFormat::jsonl
                                      ? load_qa_jsonl(path, tokenizer, format)
                                      : load_plain_text(path, tokenizer, seq_len);
  Truncation t = count_truncation(examples, seq_len);
  if (t.uncounted == static_cast<int64_t>(examples.size()))
    input_error(
        "{}: no token to count: every answer starts past the first {} tokens (--seq-len, "
        "at most the model's n_positions), and --loss-on answer counts only answers; "
        "raise --seq-len, shorten the questions or use --loss-on all",
        path, seq_len);
  if (t.truncated > 0)
    note_once(fmt::format("{} of {} examples in {} were truncated to {} tokens{}", t.truncated,
                          examples.size(), path, seq_len,
                          t.uncounted ? fmt::format(" ({} of them keep no answer token and count "
                                                    "nothing)",
                                                    t.uncounted)
                                      : ""));
  return examples;
}

int64_t Batch::counted_tokens() const {
  return std::count_if(targets.begin(), targets.end(), [](int32_t t) { return t != kIgnoreIndex; });
}

Batch make_batch(const std::vector<Example>& examples, const std::vector<size_t>& indices,
                 int64_t seq_len, int32_t pad_id) {
  Batch b;
  b.batch = static_cast<int64_t>(indices.size());
  for (size_t i : indices)
    b.seq = std::max<int64_t>(b.seq, std::min<int64_t>(seq_len, examples[i].tokens.size() - 1));
  b.seq = std::max<int64_t>(b.seq, 1);
  b.ids.assign(b.batch * b.seq, pad_id);
  b.targets.assign(b.batch * b.seq, kIgnoreIndex);
  for (int64_t r = 0; r < b.batch; ++r) {
    const Example& ex = examples[indices[r]];
    int64_t n = std::min<int64_t>(b.seq, static_cast<int64_t>(ex.tokens.size()) - 1);
    for (int64_t t = 0; t < n; ++t) {
      b.ids[r * b.seq + t] = ex.tokens[t];
      if (!ex.labels.empty()) {  // explicit labels: every position counts
        b.targets[r * b.seq + t] = ex.labels[t + 1];
        continue;
      }
      // Target t is token t+1; it counts unless it lies in the context-only prefix.
      if (t + 1 >= ex.loss_start) b.targets[r * b.seq + t] = ex.tokens[t + 1];
    }
  }
  return b;
}

std::vector<size_t> shuffled_indices(size_t n, uint64_t seed) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  Rng rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng.below(static_cast<int64_t>(i))]);
  return idx;
}

const char* batching_name(BatchOrder order) {
  return order == BatchOrder::random ? "random" : "by-length";
}

BatchOrder parse_batching(const std::string& name) {
  if (name == "random") return BatchOrder::random;
  if (name == "by-length") return BatchOrder::by_length;
  input_error("unknown batching '{}' (expected by-length or random)", name);
}

std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& examples, int64_t batch,
                                               uint64_t seed, BatchOrder order) {
  std::vector<size_t> shuffled = shuffled_indices(examples.size(), seed);
  auto pool = static_cast<size_t>(batch * (order == BatchOrder::by_length ? kLengthPool : 1));
  std::vector<std::vector<size_t>> batches;
  for (size_t start = 0; start < shuffled.size(); start += pool) {
    auto first = shuffled.begin() + start;
    auto last = shuffled.begin() + std::min(shuffled.size(), start + pool);
    if (order == BatchOrder::by_length)
      std::stable_sort(first, last, [&](size_t a, size_t b) {
        return examples[a].tokens.size() < examples[b].tokens.size();
      });
    for (auto it = first; it < last; it += std::min<ptrdiff_t>(batch, last - it))
      batches.emplace_back(it, it + std::min<ptrdiff_t>(batch, last - it));
  }
  if (order == BatchOrder::random) return batches;
  std::vector<std::vector<size_t>> mixed;  // sorted pools would run short batches first
  for (size_t i : shuffled_indices(batches.size(), ~seed)) mixed.push_back(std::move(batches[i]));
  return mixed;
}

std::pair<std::vector<Example>, std::vector<Example>> split_examples(
    const std::vector<Example>& examples, double validation_fraction, uint64_t seed) {
  std::vector<size_t> order = shuffled_indices(examples.size(), seed);
  size_t n_valid = static_cast<size_t>(validation_fraction * static_cast<double>(examples.size()));
  std::pair<std::vector<Example>, std::vector<Example>> out;
  for (size_t i = 0; i < order.size(); ++i)
    (i < n_valid ? out.second : out.first).push_back(examples[order[i]]);
  return out;
}

}  // namespace ls
