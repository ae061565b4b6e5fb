#pragma once
// The text side of GPT-2's byte-level BPE, shared by the tokenizer and the trainer: the
// byte-to-unicode alphabet tokens are written in, and the split of text into pre-tokens.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ls {

// The one special token; it is split out of text before pre-tokenization.
inline constexpr std::string_view kEndOfText = "<|endoftext|>";

// Bytes -> their GPT-2 alphabet form (UTF-8), as tokens appear in vocab.json and merges.txt.
std::string bytes_to_symbols(std::string_view bytes);

// The inverse; nullopt when `symbols` holds a character outside the alphabet.
std::optional<std::string> symbols_to_bytes(std::string_view symbols);

// The 256 single-byte tokens in alphabet form, in GPT-2's id order (by code point).
std::vector<std::string> byte_tokens();

// Calls `emit` for each piece of `text`, in order, covering every byte exactly once: either a
// "<|endoftext|>" (special = true) or a pre-token of GPT-2's regex. Bytes that are not valid
// UTF-8 match no part of the regex; each run of them becomes a pre-token of its own.
using PieceFn = std::function<void(std::string_view piece, bool special)>;
void pretokenize(std::string_view text, const PieceFn& emit);

}  // namespace ls
