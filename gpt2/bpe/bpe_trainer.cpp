#include "gpt2/bpe/bpe_trainer.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "gpt2/bpe/bpe_text.h"
#include "tensor/error.h"

namespace ls {

namespace {

// A distinct pre-token of the corpus as its current symbols, with how often it occurs.
struct Word {
  std::vector<int> symbols;
  int64_t count;
};

// Ids during training: 0..255 are the bytes, then one per merge in the order they are made.
using Pair = uint64_t;  // left << 32 | right, so comparing pairs compares left, then right

Pair pair_of(int left, int right) { return (Pair(left) << 32) | Pair(right); }
int left_of(Pair p) { return static_cast<int>(p >> 32); }
int right_of(Pair p) { return static_cast<int>(p & 0xFFFFFFFFu); }

struct Candidate {
  int64_t count;
  Pair pair;
  // priority_queue puts the greatest on top: the highest count, then the smallest pair.
  bool operator<(const Candidate& o) const {
    return count != o.count ? count < o.count : pair > o.pair;
  }
};

std::vector<Word> count_words(std::string_view corpus) {
  std::unordered_map<std::string_view, int64_t> counts;
  pretokenize(corpus, [&](std::string_view piece, bool special) {
    if (!special) ++counts[piece];
  });
  std::vector<Word> words;
  for (const auto& [piece, count] : counts) {
    if (piece.size() < 2) continue;  // nothing to merge
    Word& word = words.emplace_back(Word{{}, count});
    for (unsigned char byte : piece) word.symbols.push_back(byte);
  }
  return words;
}

// Merging works on the distinct words only, and a merge updates just the pair counts of the
// words that hold the pair, found through an index from each pair to its words.
class Trainer {
 public:
  explicit Trainer(std::string_view corpus) : words_(count_words(corpus)) {
    for (int b = 0; b < 256; ++b) tokens_.emplace_back(1, static_cast<char>(b));
    known_.insert(tokens_.begin(), tokens_.end());
    std::vector<Pair> all;
    for (int w = 0; w < static_cast<int>(words_.size()); ++w) count_pairs(w, +1, -1, all);
    push(all);
  }

  // The merges in the order made, each as its two tokens' bytes.
  std::vector<std::pair<std::string, std::string>> run(int max_merges) {
    std::vector<std::pair<std::string, std::string>> merges;
    while (static_cast<int>(merges.size()) < max_merges && !heap_.empty()) {
      Candidate top = heap_.top();
      heap_.pop();
      int64_t count = current_count(top.pair);
      if (count != top.count) {  // counts only fall, so it may still win at its true count
        if (count > 0) heap_.push({count, top.pair});
        continue;
      }
      const std::string& left = tokens_[left_of(top.pair)];
      const std::string& right = tokens_[right_of(top.pair)];
      // A second way to spell an existing token would repeat a vocabulary entry: skip it.
      if (!known_.insert(left + right).second) continue;
      merges.emplace_back(left, right);
      tokens_.push_back(left + right);
      merge(top.pair, static_cast<int>(tokens_.size()) - 1);
    }
    return merges;
  }

 private:
  int64_t current_count(Pair pair) const {
    auto it = pair_count_.find(pair);
    return it == pair_count_.end() ? 0 : it->second;
  }

  // Adds sign * (the word's count) to the count of each pair in word w. When adding, words
  // holding a pair with `fresh` (the token just made; -1 at the start) are indexed under it,
  // and the pair goes to `grown`, since its count rose and the heap must hear of it.
  void count_pairs(int w, int sign, int fresh, std::vector<Pair>& grown) {
    const std::vector<int>& s = words_[w].symbols;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      Pair pair = pair_of(s[i], s[i + 1]);
      pair_count_[pair] += sign * words_[w].count;
      if (sign < 0 || (fresh >= 0 && s[i] != fresh && s[i + 1] != fresh)) continue;
      std::vector<int>& holders = pair_words_[pair];
      if (holders.empty() || holders.back() != w) holders.push_back(w);
      grown.push_back(pair);
    }
  }

  void merge(Pair pair, int merged) {
    int left = left_of(pair), right = right_of(pair);
    std::vector<int> holders = std::move(pair_words_[pair]);
    pair_words_.erase(pair);
    std::vector<Pair> grown;
    for (int w : holders) {
      std::vector<int>& s = words_[w].symbols;
      auto at = std::adjacent_find(s.begin(), s.end(),
                                   [&](int a, int b) { return a == left && b == right; });
      if (at == s.end()) continue;  // the index keeps words that have since lost the pair
      count_pairs(w, -1, merged, grown);
      replace_pair(s, left, right, merged);
      count_pairs(w, +1, merged, grown);
    }
    push(grown);
  }

  // Non-overlapping occurrences, left to right, as BPE applies a merge.
  static void replace_pair(std::vector<int>& s, int left, int right, int merged) {
    size_t out = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      bool match = i + 1 < s.size() && s[i] == left && s[i + 1] == right;
      s[out++] = match ? merged : s[i];
      i += match;
    }
    s.resize(out);
  }

  void push(std::vector<Pair>& pairs) {
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    for (Pair p : pairs) heap_.push({pair_count_[p], p});
  }

  std::vector<Word> words_;
  std::vector<std::string> tokens_;        // id -> bytes
  std::unordered_set<std::string> known_;  // the same bytes, as a set
  std::unordered_map<Pair, int64_t> pair_count_;
  std::unordered_map<Pair, std::vector<int>> pair_words_;  // pair -> words that may hold it
  std::priority_queue<Candidate> heap_;
};

}  // namespace

Tokenizer train_bpe(std::string_view corpus, int vocab_size) {
  if (vocab_size < 257)
    input_error(
        "BPE vocabulary size {} is too small: it needs at least 257 (the 256 bytes and "
        "\"{}\")",
        vocab_size, kEndOfText);
  auto merges = Trainer(corpus).run(vocab_size - 257);
  for (auto& [left, right] : merges) {
    left = bytes_to_symbols(left);
    right = bytes_to_symbols(right);
  }
  return Tokenizer::from_merges(merges);
}

}  // namespace ls
