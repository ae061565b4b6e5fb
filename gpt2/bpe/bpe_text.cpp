#include "gpt2/bpe/bpe_text.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <memory>

#include "tensor/error.h"

namespace ls {

namespace {

// GPT-2 writes every byte as a visible character so tokens are readable strings: bytes that
// are printable keep their own code point, the others (controls, space, ...) take 256, 257,
// ... in byte order.
constexpr bool printable(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr int kAlphabetEnd = 256 + 68;  // 68 bytes are not printable

struct Alphabet {
  std::array<std::string, 256> symbol;  // byte -> UTF-8 of its code point
  std::array<int, kAlphabetEnd> byte;   // code point -> byte, -1 outside the alphabet

  Alphabet() {
    byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      int cp = printable(b) ? b : next++;
      byte[cp] = b;
      // Every code point is below 0x800, so one or two UTF-8 bytes.
      symbol[b] = cp < 0x80 ? std::string(1, char(cp))
                            : std::string{char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet table;
  return table;
}

// Decodes the one- or two-byte UTF-8 character at s[i] (all the alphabet needs), advancing i;
// -1 for anything else.
int next_code_point(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80) return c;
  if ((c & 0xE0) != 0xC0 || i == s.size()) return -1;
  auto d = static_cast<unsigned char>(s[i++]);
  if ((d & 0xC0) != 0x80) return -1;
  int cp = ((c & 0x1F) << 6) | (d & 0x3F);
  return cp >= 0x80 ? cp : -1;  // overlong forms are not UTF-8
}

// GPT-2's pre-tokenizer: contractions, letter runs, number runs and other-symbol runs (each
// with at most one leading space), then whitespace, leaving a space before a word to it.
constexpr const char* kPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Regex {
  pcre2_code* code = nullptr;

  Regex() {
    int error = 0;
    PCRE2_SIZE offset = 0;
    // MATCH_INVALID_UTF: invalid UTF-8 is skipped over instead of failing the whole match.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    LS_CHECK(code != nullptr, "pre-tokenizer regex: {}", message(error));
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // without JIT, matching is just slower
  }
  ~Regex() { pcre2_code_free(code); }

  static std::string message(int error) {
    std::array<PCRE2_UCHAR, 256> buffer{};
    pcre2_get_error_message(error, buffer.data(), buffer.size());
    return reinterpret_cast<const char*>(buffer.data());
  }
};

const Regex& regex() {
  static const Regex compiled;
  return compiled;
}

// Emits the regex pre-tokens of text that holds no special token, and the runs between them.
void split_words(std::string_view text, const PieceFn& emit) {
  const Regex& re = regex();
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(re.code, nullptr), &pcre2_match_data_free);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    int rc = pcre2_match(re.code, subject, text.size(), pos, 0, match.get(), nullptr);
    LS_CHECK(rc > 0 || rc == PCRE2_ERROR_NOMATCH, "pre-tokenizer: {}", Regex::message(rc));
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match.get());
    size_t start = rc > 0 ? span[0] : text.size();
    if (start > pos) emit(text.substr(pos, start - pos), false);  // invalid UTF-8
    if (rc < 0) break;
    emit(text.substr(start, span[1] - start), false);
    pos = span[1];  // no alternative matches the empty string, so this advances
  }
}

}  // namespace

std::string bytes_to_symbols(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += alphabet().symbol[b];
  return out;
}

std::optional<std::string> symbols_to_bytes(std::string_view symbols) {
  std::string out;
  out.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size();) {
    int cp = next_code_point(symbols, i);
    if (cp < 0 || cp >= kAlphabetEnd || alphabet().byte[cp] < 0) return std::nullopt;
    out += static_cast<char>(alphabet().byte[cp]);
  }
  return out;
}

std::vector<std::string> byte_tokens() {
  std::vector<std::string> tokens;
  for (int cp = 0; cp < kAlphabetEnd; ++cp)
    if (alphabet().byte[cp] >= 0) tokens.push_back(alphabet().symbol[alphabet().byte[cp]]);
  return tokens;
}

void pretokenize(std::string_view text, const PieceFn& emit) {
  while (!text.empty()) {
    size_t special = text.find(kEndOfText);
    split_words(text.substr(0, special), emit);
    if (special == std::string_view::npos) break;
    emit(text.substr(special, kEndOfText.size()), true);
    text.remove_prefix(special + kEndOfText.size());
  }
}

}  // namespace ls
