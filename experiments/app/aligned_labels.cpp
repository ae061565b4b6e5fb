#include "experiments/app/aligned_labels.h"

namespace ls {

namespace {

// The ids of `text`, cut or padded with <|endoftext|> to exactly `length`.
std::vector<int32_t> padded_ids(const std::string& text, const Tokenizer& tokenizer,
                                int64_t length) {
  std::vector<int32_t> ids = tokenizer.encode(text);
  ids.resize(static_cast<size_t>(length), tokenizer.eot_id());
  return ids;
}

}  // namespace

QaLayout aligned_labels_layout(int64_t length) {
  return
      [length](const std::string& question, const std::string& answer, const Tokenizer& tokenizer) {
        Example ex;
        ex.tokens = padded_ids(question, tokenizer, length);
        ex.labels = padded_ids(answer, tokenizer, length);
        return ex;
      };
}

}  // namespace ls
