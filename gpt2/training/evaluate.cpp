#include "gpt2/training/evaluate.h"

#include <algorithm>

#include "tensor/error.h"
#include "tensor/parallel.h"

namespace ls {

Perplexity evaluate_perplexity(GPT2& model, const std::vector<Example>& examples, int64_t batch,
                               int64_t seq_len) {
  if (examples.empty()) input_error("perplexity of an empty data set");
  bool was_training = model.training();
  model.set_training(false);
  seq_len = std::min(seq_len, model.config().n_positions);
  // Sorting by length keeps padding (wasted work, never counted) small.
  std::vector<size_t> order(examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].tokens.size() < examples[b].tokens.size();
  });
  // Batches run at once, each on whatever threads are free: at small shapes that beats one
  // batch at a time on every core. The totals are summed in batch order, as one at a time.
  auto batches = static_cast<int64_t>((order.size() + batch - 1) / batch);
  std::vector<ops::LmHeadLoss> per_batch(batches);
  parallel_for(batches, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      size_t start = static_cast<size_t>(i * batch);
      std::vector<size_t> idx(order.begin() + start,
                              order.begin() + std::min(order.size(), start + batch));
      Batch b = make_batch(examples, idx, seq_len, 0);
      per_batch[i] = model.nll(b.ids, b.targets, b.batch, b.seq);
    }
  });
  Perplexity result;
  for (const ops::LmHeadLoss& nll : per_batch) {
    result.total_nll += nll.total_nll;
    result.tokens += nll.counted;
  }
  model.set_training(was_training);
  return result;
}

}  // namespace ls
