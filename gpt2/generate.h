#pragma once
// Text generation with a KV cache: greedy, temperature, top-k and nucleus (top-p) sampling.
#include <cstdint>
#include <functional>
#include <vector>

#include "gpt2/model.h"
#include "tensor/random.h"

namespace ls {

struct GenerateOptions {
  int max_new_tokens = 50;
  float temperature = 1.0f;  // 0 = greedy
  int top_k = 0;             // 0 = no limit
  float top_p = 1.0f;        // 1 = no limit
  uint64_t seed = 0;
  int32_t stop_token = -1;  // stop after emitting this id (e.g. <|endoftext|>); -1 = never
};

// Picks the next token from one row of logits.
int32_t sample_token(const float* logits, int64_t vocab, const GenerateOptions& options, Rng& rng);

// Continues `prompt`; calls on_token (if given) as each token is produced. Returns new tokens.
std::vector<int32_t> generate(GPT2& model, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options,
                              const std::function<void(int32_t)>& on_token = {});

}  // namespace ls
