#pragma once
// Perplexity = exp(total negative log-likelihood / total counted tokens) over a whole set.
#include <cmath>
#include <vector>

#include "gpt2/model.h"
#include "gpt2/training/data.h"

namespace ls {

struct Perplexity {
  double total_nll = 0.0;
  int64_t tokens = 0;
  double mean_nll() const { return tokens ? total_nll / static_cast<double>(tokens) : 0.0; }
  double value() const { return std::exp(mean_nll()); }
};

Perplexity evaluate_perplexity(GPT2& model, const std::vector<Example>& examples, int64_t batch,
                               int64_t seq_len);

}  // namespace ls
