#pragma once
// Small GPT-2 configurations the tests build models from.
#include "gpt2/config.h"

namespace ls::test {

// The "micro" preset (2 layers, 2 heads, width 32) with a short context and a tiny vocabulary.
inline GPT2Config micro_config(int64_t positions = 16, int64_t vocab = 40, bool dropout = true) {
  GPT2Config c = GPT2Config::preset("micro");
  c.n_positions = positions;
  c.vocab_size = vocab;
  if (!dropout) c.resid_pdrop = c.embd_pdrop = c.attn_pdrop = 0.0f;
  return c;
}

}  // namespace ls::test
