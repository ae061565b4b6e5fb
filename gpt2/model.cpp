#include "gpt2/model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "gpt2/reference.h"
#include "tensor/error.h"

namespace ls {

Attention::Attention(const GPT2Config& c, uint64_t seed) : n_head_(c.n_head), n_embd_(c.n_embd) {
  c_attn = register_module("c_attn",
                           std::make_shared<Linear>(c.n_embd, 3 * c.n_embd, Linear::Layout::InOut));
  c_proj = register_module("c_proj",
                           std::make_shared<Linear>(c.n_embd, c.n_embd, Linear::Layout::InOut));
  resid_dropout_ = register_module("resid_dropout", std::make_shared<Dropout>(c.resid_pdrop, seed));
}

Tensor Attention::forward(const Tensor& x) {
  Tensor qkv = c_attn->forward(x);  // (B,T,3C)
  // The fused kernel computes reference::attention reading q, k and v in place in qkv and
  // skipping the masked keys (tensor/attention.cpp).
  Tensor y = kernels_ == Kernels::Fused ? ag::attention(qkv, n_head_)
                                        : reference::attention(qkv, n_head_);  // (B,T,C)
  return resid_dropout_->forward(c_proj->forward(y));
}

Tensor Attention::forward_cached(const Tensor& x, Tensor& k, Tensor& v, int64_t past) {
  Tensor qkv = c_attn->forward(x);  // (B,T,3C)
  int64_t t = x.size(1), c = n_embd_;
  k.slice(1, past, past + t).copy_from(qkv.slice(2, c, 2 * c));
  v.slice(1, past, past + t).copy_from(qkv.slice(2, 2 * c, 3 * c));
  Tensor q = qkv.slice(2, 0, c);                                            // (B,T,C)
  Tensor keys = k.slice(1, 0, past + t), values = v.slice(1, 0, past + t);  // (B,past+T,C)
  Tensor out = kernels_ == Kernels::Fused ? ops::attention_cached(q, keys, values, n_head_)
                                          : reference::attention(q, keys, values, n_head_);
  return c_proj->forward(out);
}

Mlp::Mlp(const GPT2Config& c, uint64_t seed) {
  c_fc = register_module("c_fc",
                         std::make_shared<Linear>(c.n_embd, 4 * c.n_embd, Linear::Layout::InOut));
  c_proj = register_module("c_proj",
                           std::make_shared<Linear>(4 * c.n_embd, c.n_embd, Linear::Layout::InOut));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(c.resid_pdrop, seed));
}

Tensor Mlp::forward(const Tensor& x) {
  return dropout_->forward(c_proj->forward(ag::gelu(c_fc->forward(x))));
}

Block::Block(const GPT2Config& c, uint64_t seed) {
  ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(c.n_embd, c.layer_norm_epsilon));
  attn = register_module("attn", std::make_shared<Attention>(c, seed));
  ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(c.n_embd, c.layer_norm_epsilon));
  mlp = register_module("mlp", std::make_shared<Mlp>(c, seed + 1));
}

Tensor Block::forward(const Tensor& x) {
  Tensor y = ag::add(x, attn->forward(ln_1->forward(x)));
  return ag::add(y, mlp->forward(ln_2->forward(y)));
}

Tensor Block::forward_cached(const Tensor& x, Tensor& k, Tensor& v, int64_t past) {
  Tensor y = ag::add(x, attn->forward_cached(ln_1->forward(x), k, v, past));
  return ag::add(y, mlp->forward(ln_2->forward(y)));
}

GPT2::GPT2(const GPT2Config& config, uint64_t seed, bool initialise) : config_(config) {
  config_.validate("GPT-2 config");
  wte = register_module("wte", std::make_shared<Embedding>(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", std::make_shared<Embedding>(config.n_positions, config.n_embd));
  embd_dropout_ = register_module("drop", std::make_shared<Dropout>(config.embd_pdrop, seed));
  for (int64_t i = 0; i < config.n_layer; ++i)
    h.push_back(register_module("h." + std::to_string(i),
                                std::make_shared<Block>(config, seed + 2 * (i + 1))));
  ln_f = register_module("ln_f",
                         std::make_shared<LayerNorm>(config.n_embd, config.layer_norm_epsilon));
  if (initialise) init_weights(seed);
}

void GPT2::init_weights(uint64_t seed) {
  Rng rng(seed);
  float residual_std = 0.02f / std::sqrt(2.0f * static_cast<float>(config_.n_layer));
  for (auto& [name, p] : named_parameters()) {
    bool is_weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
    bool is_norm = name.find("ln_") != std::string::npos;
    if (is_norm || !is_weight) {
      p.fill(is_norm && is_weight ? 1.0f : 0.0f);
      continue;
    }
    bool residual = name.find("c_proj.weight") != std::string::npos;
    p.copy_from(rand_normal(p.shape(), 0.0f, residual ? residual_std : 0.02f, rng));
  }
}

void GPT2::reseed_dropout(uint64_t seed) {
  uint64_t i = 0;
  for (auto& [name, m] : named_modules())
    if (auto* d = dynamic_cast<Dropout*>(m)) d->reseed(derive_seed(seed, kModelDropoutSeeds, i++));
}

void GPT2::set_kernels(Kernels kernels) {
  kernels_ = kernels;
  for (auto& block : h) block->attn->set_kernels(kernels);
}

void GPT2::check_ids(const std::vector<int32_t>& ids, int64_t batch, int64_t seq,
                     int64_t past) const {
  LS_CHECK(static_cast<int64_t>(ids.size()) == batch * seq, "{} ids for batch {} x {}", ids.size(),
           batch, seq);
  if (past + seq > config_.n_positions)
    input_error("sequence of {} tokens is longer than the model's n_positions = {}", past + seq,
                config_.n_positions);
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= config_.vocab_size)
      input_error("token id {} at position {} is outside the vocabulary (size {})", ids[i], i,
                  config_.vocab_size);
}

Tensor GPT2::embed(const std::vector<int32_t>& ids, int64_t batch, int64_t seq, int64_t past) {
  check_ids(ids, batch, seq, past);
  std::vector<int32_t> positions(seq);
  for (int64_t t = 0; t < seq; ++t) positions[t] = static_cast<int32_t>(past + t);
  Tensor tok = wte->forward(ids, {batch, seq});
  Tensor pos = wpe->forward(positions, {seq});
  return embd_dropout_->forward(ag::add(tok, pos));
}

Tensor GPT2::hidden(const std::vector<int32_t>& ids, int64_t batch, int64_t seq) {
  Tensor x = embed(ids, batch, seq, 0);
  for (auto& block : h) x = block->forward(x);
  return ln_f->forward(x);
}

Tensor GPT2::logits(const std::vector<int32_t>& ids, int64_t batch, int64_t seq) {
  Tensor x = hidden(ids, batch, seq);
  return ag::matmul(x, ag::transpose(wte->weight(), 0, 1));
}

void GPT2::set_training_head(const Tensor& weight) {
  LS_CHECK(!weight.defined() || weight.shape() == wte->weight().shape(),
           "training head of shape {} for an embedding of shape {}", weight.shape_str(),
           wte->weight().shape_str());
  training_head_ = weight;
}

Tensor GPT2::loss(const std::vector<int32_t>& ids, const std::vector<int32_t>& targets,
                  int64_t batch, int64_t seq, int32_t ignore_index) {
  Tensor head = training_head_.defined() ? training_head_ : wte->weight();  // (V,C)
  Tensor x = hidden(ids, batch, seq);                                       // (B,T,C)
  // The fused kernel computes reference::lm_head_loss in row chunks, with its gradients in the
  // same pass (tensor/lm_head.cpp).
  if (kernels_ == Kernels::Fused) return ag::lm_head_loss(x, head, targets, ignore_index);
  return reference::lm_head_loss(x, head, targets, ignore_index);
}

ops::LmHeadLoss GPT2::nll(const std::vector<int32_t>& ids, const std::vector<int32_t>& targets,
                          int64_t batch, int64_t seq, int32_t ignore_index) {
  NoGradGuard no_grad;
  Tensor x = hidden(ids, batch, seq);  // (B,T,C)
  const Tensor& head = wte->weight();  // (V,C)
  if (kernels_ == Kernels::Fused)
    return ops::lm_head_loss(x.view({-1, x.size(-1)}), head, targets, ignore_index);
  ops::LmHeadLoss r;
  r.counted =
      std::count_if(targets.begin(), targets.end(), [&](int32_t t) { return t != ignore_index; });
  r.loss = reference::lm_head_loss(x, head, targets, ignore_index).item();
  r.total_nll = static_cast<double>(r.loss) * static_cast<double>(r.counted);
  return r;
}

void GPT2::keep_bf16_weights(bool on) {
  for (auto& block : h)
    for (Linear* l : {block->attn->c_attn.get(), block->attn->c_proj.get(), block->mlp->c_fc.get(),
                      block->mlp->c_proj.get()})
      l->keep_bf16_weight(on);
  bf16_head_ = on ? Bf16Matrix(wte->weight()) : Bf16Matrix();
}

KVCache GPT2::new_cache(int64_t batch) const {
  KVCache cache;
  // Left uninitialised: only positions below `length` are ever read, and not touching the
  // rest spares zeroing (and faulting in) 75 MiB for GPT-2 Small at every generate call.
  for (int64_t i = 0; i < config_.n_layer; ++i) {
    cache.k.push_back(Tensor::empty({batch, config_.n_positions, config_.n_embd}));
    cache.v.push_back(Tensor::empty({batch, config_.n_positions, config_.n_embd}));
  }
  return cache;
}

Tensor GPT2::forward_cached(const std::vector<int32_t>& ids, int64_t batch, KVCache& cache) {
  NoGradGuard no_grad;
  int64_t seq = static_cast<int64_t>(ids.size()) / batch;
  Tensor x = embed(ids, batch, seq, cache.length);
  for (size_t i = 0; i < h.size(); ++i)
    x = h[i]->forward_cached(x, cache.k[i], cache.v[i], cache.length);
  cache.length += seq;
  Tensor last = ln_f->forward(x.slice(1, seq - 1, seq)).reshape({batch, config_.n_embd});
  if (!bf16_head_.empty()) return ops::linear_bf16(last, bf16_head_);
  return ops::matmul(last, wte->weight().transpose(0, 1));
}

}  // namespace ls
