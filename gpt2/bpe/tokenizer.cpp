#include "gpt2/bpe/tokenizer.h"

#include <algorithm>
#include <mutex>
#include <queue>

#include "gpt2/bpe/bpe_text.h"
#include "tensor/error.h"

namespace ls {

namespace {

// Bounds the cache's memory (roughly 100 bytes a word) on text with endless distinct words.
constexpr size_t kMaxCachedWords = size_t{1} << 18;

struct StringHash {
  using is_transparent = void;  // lets the cache be searched with a string_view
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct Tokenizer::WordCache {
  std::mutex mutex;  // encode is const and may run on several threads at once
  std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>> ids;
};

Tokenizer::Tokenizer(std::vector<std::string> tokens, std::vector<Merge> merges,
                     const std::string& where)
    : tokens_(std::move(tokens)),
      merges_(std::move(merges)),
      cache_(std::make_shared<WordCache>()) {
  std::fill(std::begin(byte_id_), std::end(byte_id_), -1);
  bytes_.reserve(tokens_.size());
  for (int id = 0; id < vocab_size(); ++id) {
    auto bytes = symbols_to_bytes(tokens_[id]);
    if (!bytes)
      input_error("{}: token \"{}\" (id {}) has characters outside GPT-2's byte alphabet", where,
                  tokens_[id], id);
    if (bytes->size() == 1) byte_id_[static_cast<unsigned char>((*bytes)[0])] = id;
    if (tokens_[id] == kEndOfText) eot_id_ = id;
    bytes_.push_back(std::move(*bytes));
  }
  for (int b = 0; b < 256; ++b)
    if (byte_id_[b] < 0) input_error("{}: no token for byte 0x{:02x}", where, b);
  if (eot_id_ < 0) input_error("{}: no \"{}\" token", where, kEndOfText);
  rank_.reserve(merges_.size());
  for (size_t rank = 0; rank < merges_.size(); ++rank)
    rank_.emplace(pair_key(merges_[rank].left, merges_[rank].right), static_cast<int>(rank));
}

Tokenizer Tokenizer::from_merges(const std::vector<std::pair<std::string, std::string>>& merges) {
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int> ids;
  auto add = [&](const std::string& token) {
    auto [it, fresh] = ids.emplace(token, static_cast<int>(tokens.size()));
    if (fresh) tokens.push_back(token);
    return it->second;
  };
  for (const std::string& token : byte_tokens()) add(token);
  std::vector<Merge> resolved;
  for (size_t i = 0; i < merges.size(); ++i) {
    const auto& [left, right] = merges[i];
    for (const std::string& part : {left, right})
      if (!ids.count(part))
        input_error("merge {} (\"{} {}\"): \"{}\" is neither a byte nor an earlier merge's result",
                    i + 1, left, right, part);
    resolved.push_back({ids[left], ids[right], add(left + right)});
  }
  add(std::string(kEndOfText));
  return Tokenizer(std::move(tokens), std::move(resolved), "merge list");
}

std::vector<int> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  ids.reserve(text.size() / 4 + 1);
  pretokenize(text, [&](std::string_view piece, bool special) {
    if (special)
      ids.push_back(eot_id_);
    else
      encode_word(piece, ids);
  });
  return ids;
}

void Tokenizer::encode_word(std::string_view word, std::vector<int>& out) const {
  if (word.size() == 1) {  // common (punctuation, spaces) and needs no merging
    out.push_back(byte_id_[static_cast<unsigned char>(word[0])]);
    return;
  }
  {
    std::lock_guard lock(cache_->mutex);
    auto it = cache_->ids.find(word);
    if (it != cache_->ids.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> ids = merge_word(word);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard lock(cache_->mutex);
  if (cache_->ids.size() >= kMaxCachedWords) cache_->ids.clear();
  cache_->ids.emplace(std::string(word), std::move(ids));
}

// Starts from single bytes and applies the lowest-ranked merge available, leftmost first,
// until none applies. The symbols form a linked list so a merge is O(1), and candidate merges
// wait in a heap, so long words cost O(n log n) rather than O(n^2).
std::vector<int> Tokenizer::merge_word(std::string_view word) const {
  struct Symbol {
    int id, prev, next;  // id -1: absorbed by its left neighbour
  };
  struct Candidate {
    int rank, pos, left, right;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const int n = static_cast<int>(word.size());
  std::vector<Symbol> symbols(n);
  for (int i = 0; i < n; ++i)
    symbols[i] = {byte_id_[static_cast<unsigned char>(word[i])], i - 1, i + 1 < n ? i + 1 : -1};

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto consider = [&](int pos) {
    if (pos < 0 || symbols[pos].next < 0) return;
    int left = symbols[pos].id, right = symbols[symbols[pos].next].id;
    auto it = rank_.find(pair_key(left, right));
    if (it != rank_.end()) heap.push({it->second, pos, left, right});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);

  while (!heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    Symbol& s = symbols[c.pos];
    // Stale when either symbol has been merged since the candidate was pushed.
    if (s.id != c.left || s.next < 0 || symbols[s.next].id != c.right) continue;
    Symbol& absorbed = symbols[s.next];
    s.id = merges_[c.rank].result;
    s.next = absorbed.next;
    if (s.next >= 0) symbols[s.next].prev = c.pos;
    absorbed.id = -1;
    consider(s.prev);
    consider(c.pos);
  }

  std::vector<int> ids;
  for (int pos = 0; pos >= 0; pos = symbols[pos].next) ids.push_back(symbols[pos].id);
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (int id : ids) {
    if (id < 0 || id >= vocab_size())
      input_error("token id {} is out of range (the vocabulary has {} tokens)", id, vocab_size());
    text += bytes_[id];
  }
  return text;
}

}  // namespace ls
