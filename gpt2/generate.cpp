#include "gpt2/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/error.h"

namespace ls {

int32_t sample_token(const float* logits, int64_t vocab, const GenerateOptions& o, Rng& rng) {
  if (o.temperature <= 0.0f)
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = o.top_k > 0 ? std::min<int64_t>(o.top_k, vocab) : vocab;
  // Highest logits first (ties by id so the choice is deterministic).
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  order.resize(keep);
  std::vector<double> probs(keep);
  double top = logits[order[0]] / o.temperature, total = 0.0;
  for (int64_t i = 0; i < keep; ++i)
    total += probs[i] = std::exp(logits[order[i]] / o.temperature - top);
  for (double& p : probs) p /= total;
  if (o.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    double mass = 0.0;
    int64_t cut = 0;
    while (cut < keep && mass < o.top_p) mass += probs[cut++];
    probs.resize(cut);
    for (double& p : probs) p /= mass;
  }
  double u = rng.uniform(), acc = 0.0;
  for (size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (u < acc) return order[i];
  }
  return order[probs.size() - 1];
}

std::vector<int32_t> generate(GPT2& model, const std::vector<int32_t>& prompt,
                              const GenerateOptions& options,
                              const std::function<void(int32_t)>& on_token) {
  if (prompt.empty()) input_error("generate: the prompt has no tokens");
  int64_t room = model.config().n_positions - static_cast<int64_t>(prompt.size());
  if (room < 0)
    input_error("generate: the prompt has {} tokens, more than n_positions = {}", prompt.size(),
                model.config().n_positions);
  Rng rng(options.seed);
  KVCache cache = model.new_cache(1);
  Tensor logits = model.forward_cached(prompt, 1, cache);
  std::vector<int32_t> out;
  int64_t limit = std::min<int64_t>(options.max_new_tokens, room);
  for (int64_t i = 0; i < limit; ++i) {
    int32_t next = sample_token(logits.data(), logits.size(-1), options, rng);
    out.push_back(next);
    if (on_token) on_token(next);
    if (next == options.stop_token || i + 1 == limit) break;
    logits = model.forward_cached({next}, 1, cache);
  }
  return out;
}

}  // namespace ls
