#pragma once
// GPT-2's byte-level BPE tokenizer: reads and writes the Hugging Face (vocab.json + merges.txt)
// and OpenAI (encoder.json + vocab.bpe) files and encodes text to exactly the reference ids.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ls {

class Tokenizer {
 public:
  // Loads vocab.json + merges.txt (Hugging Face) or encoder.json + vocab.bpe (OpenAI) from dir.
  static Tokenizer load(const std::string& dir);
  static bool exists_in(const std::string& dir);  // true when either file pair is present

  // Builds a tokenizer from merges in rank order, each a pair of tokens in GPT-2's byte-to-
  // unicode alphabet: ids are the 256 byte tokens (in GPT-2's order), then each merge's new
  // token (unless another merge made it already), then "<|endoftext|>". Throws InputError
  // when a merge uses a token that is neither a byte nor an earlier merge's result.
  static Tokenizer from_merges(const std::vector<std::pair<std::string, std::string>>& merges);

  std::vector<int> encode(std::string_view text) const;   // "<|endoftext|>" in text -> its id
  std::string decode(const std::vector<int>& ids) const;  // throws InputError on id out of range
  int eot_id() const { return eot_id_; }
  int vocab_size() const { return static_cast<int>(tokens_.size()); }
  void save(
      const std::string& dir) const;  // writes vocab.json + merges.txt (HF format), atomically

  const std::string& token(int id) const { return tokens_.at(id); }  // alphabet form

  struct Merge {  // token ids: left + right -> result
    int left, right, result;
  };

 private:
  struct WordCache;

  // `tokens` in alphabet form, index = id; `merges` in rank order. `where` names the source in
  // errors about the vocabulary as a whole.
  Tokenizer(std::vector<std::string> tokens, std::vector<Merge> merges, const std::string& where);

  static Tokenizer load_files(const std::string& vocab_path, const std::string& merges_path);
  void encode_word(std::string_view word, std::vector<int>& out) const;
  std::vector<int> merge_word(std::string_view word) const;

  static uint64_t pair_key(int left, int right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }

  std::vector<std::string> tokens_;         // alphabet form, as in the files
  std::vector<std::string> bytes_;          // what each token decodes to
  std::vector<Merge> merges_;               // rank order
  std::unordered_map<uint64_t, int> rank_;  // pair_key(left, right) -> index into merges_
  int byte_id_[256] = {};
  int eot_id_ = -1;
  // Words seen before, shared by copies (they share the vocabulary, which never changes).
  std::shared_ptr<WordCache> cache_;
};

}  // namespace ls
