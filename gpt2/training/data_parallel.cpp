#include "gpt2/training/data_parallel.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "tensor/distributed.h"
#include "tensor/hash.h"

namespace ls {

Shard shard_rows(const Batch& whole, int rank, int ranks) {
  int64_t first = whole.batch * rank / ranks, end = whole.batch * (rank + 1) / ranks;
  Shard s;
  s.first_row = first;
  s.batch.batch = end - first;
  s.batch.seq = whole.seq;
  s.batch.ids.assign(whole.ids.begin() + first * whole.seq, whole.ids.begin() + end * whole.seq);
  s.batch.targets.assign(whole.targets.begin() + first * whole.seq,
                         whole.targets.begin() + end * whole.seq);
  return s;
}

double shard_loss_backward(GPT2& model, const Batch& whole, int64_t grad_accum) {
  Shard s = shard_rows(whole, world::rank(), world::size());
  if (s.batch.batch == 0) return 0.0;  // more ranks than rows: nothing to do here this time
  // The whole batch's mean is the token-weighted mean of the shards' means.
  int64_t counted = whole.counted_tokens();
  double share = counted > 0 ? static_cast<double>(s.batch.counted_tokens()) / counted : 1.0;
  ag::BatchShardScope shard_scope({s.first_row, s.batch.batch});
  Tensor loss = model.loss(s.batch.ids, s.batch.targets, s.batch.batch, s.batch.seq, kIgnoreIndex);
  backward(loss, Tensor::scalar(static_cast<float>(share) / static_cast<float>(grad_accum)));
  return loss.item() * share / static_cast<double>(grad_accum);
}

void sum_gradients(const std::vector<Tensor>& params) {
  if (world::size() == 1) return;
  // One buffer: per parameter a flag (it has a gradient here) and its gradient or zeros.
  int64_t total = 0;
  for (const Tensor& p : params) total += 1 + p.numel();
  std::vector<float> buffer(static_cast<size_t>(total), 0.0f);
  float* at = buffer.data();
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) {
      at[0] = 1.0f;
      std::copy(g.data(), g.data() + g.numel(), at + 1);
    }
    at += 1 + p.numel();
  }
  world::sum(buffer.data(), total);
  at = buffer.data();
  for (const Tensor& p : params) {
    if (at[0] > 0.0f) {
      if (!p.grad().defined()) p.impl()->grad = Tensor::zeros(p.shape()).impl_ptr();
      std::copy(at + 1, at + 1 + p.numel(), p.grad().data());
    }
    at += 1 + p.numel();
  }
}

namespace {

// FNV-1a, 64-bit: enough to tell ranks apart that were given different inputs.
struct Fnv {
  uint64_t h = kFnv1aOffset;
  void add(const void* data, size_t bytes) { h = fnv1a(data, bytes, h); }
  template <typename T>
  void add(const std::vector<T>& v) {
    uint64_t n = v.size();
    add(&n, sizeof n);
    add(v.data(), v.size() * sizeof(T));
  }
};

void add_examples(Fnv& f, const std::vector<Example>& set) {
  for (const Example& ex : set) {
    f.add(ex.tokens);
    f.add(ex.labels);
    f.add(&ex.loss_start, sizeof ex.loss_start);
  }
}

}  // namespace

uint64_t training_digest(const std::vector<Example>& train_set,
                         const std::vector<Example>& eval_set, const std::vector<Tensor>& params,
                         const std::string& settings) {
  Fnv f;
  add_examples(f, train_set);
  add_examples(f, eval_set);
  for (const Tensor& p : params) {
    Tensor c = p.contiguous();
    f.add(c.data(), static_cast<size_t>(c.numel()) * sizeof(float));
  }
  f.add(settings.data(), settings.size());
  return f.h;
}

}  // namespace ls
