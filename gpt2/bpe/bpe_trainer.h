#pragma once
// Training a byte-level BPE vocabulary the way GPT-2's was made.
#include <string_view>

#include "gpt2/bpe/tokenizer.h"

namespace ls {

// Trains a byte-level BPE on `corpus` until the vocabulary has `vocab_size` entries (256 byte
// tokens + merges + "<|endoftext|>" as the last id), or fewer when the corpus runs out of
// pairs. Each step merges the most frequent adjacent pair (skipping pairs that would spell an
// existing token again); ties go to the pair whose left, then right, token came first (bytes
// in byte order, then merge results in the order made), so the result is deterministic.
// Text is split with GPT-2's pre-tokenizer, so merges never cross pre-token boundaries, and
// "<|endoftext|>" in the corpus is not counted. Throws InputError if vocab_size < 257.
Tokenizer train_bpe(std::string_view corpus, int vocab_size);

}  // namespace ls
