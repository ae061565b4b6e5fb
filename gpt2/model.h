#pragma once
// GPT-2: token + position embeddings, pre-LayerNorm blocks (fused qkv attention, GELU MLP),
// a final LayerNorm and an LM head tied to the token embedding. Parameter names equal
// Hugging Face's (`wte.weight`, `h.0.attn.c_attn.weight`, …).
//
// Attention and the LM-head loss run either as fused kernels (tensor/fused.h, the default) or
// as the plain autograd ops they optimise (gpt2/reference.h); set_kernels chooses.
#include <memory>
#include <vector>

#include "gpt2/config.h"
#include "nn/nn.h"

namespace ls {

// Fused: one kernel each for attention and the LM head + loss, the fast path.
// Reference: the same maths op by op (matmul, causal softmax, cross_entropy): slower and it
// keeps more activations, but each step can be read, printed and checked.
enum class Kernels { Fused, Reference };

// The seed of the index-th Dropout module (in named_modules order) from reseed_dropout's seed.
inline constexpr SeedStream kModelDropoutSeeds{SeedStream::Rule::Stride, 7919};

// Keys and values of every layer for the positions seen so far (generation).
struct KVCache {
  std::vector<Tensor> k, v;  // per layer, (B, n_positions, C)
  int64_t length = 0;
};

class Attention : public Module {
 public:
  explicit Attention(const GPT2Config& c, uint64_t seed);
  Tensor forward(const Tensor& x);  // (B,T,C) -> (B,T,C)
  Tensor forward_cached(const Tensor& x, Tensor& k, Tensor& v, int64_t past);
  void set_kernels(Kernels kernels) { kernels_ = kernels; }
  std::shared_ptr<Linear> c_attn, c_proj;

 private:
  int64_t n_head_, n_embd_;
  Kernels kernels_ = Kernels::Fused;
  std::shared_ptr<Dropout> resid_dropout_;
};

class Mlp : public Module {
 public:
  explicit Mlp(const GPT2Config& c, uint64_t seed);
  Tensor forward(const Tensor& x);
  std::shared_ptr<Linear> c_fc, c_proj;

 private:
  std::shared_ptr<Dropout> dropout_;
};

class Block : public Module {
 public:
  Block(const GPT2Config& c, uint64_t seed);
  Tensor forward(const Tensor& x);
  Tensor forward_cached(const Tensor& x, Tensor& k, Tensor& v, int64_t past);
  std::shared_ptr<LayerNorm> ln_1, ln_2;
  std::shared_ptr<Attention> attn;
  std::shared_ptr<Mlp> mlp;
};

class GPT2 : public Module {
 public:
  // `initialise` = false leaves the weights zero, for a caller that loads them right away.
  explicit GPT2(const GPT2Config& config, uint64_t seed = 0, bool initialise = true);

  const GPT2Config& config() const { return config_; }
  // GPT-2's initialisation: N(0, 0.02) weights, residual projections N(0, 0.02/√(2·n_layer)),
  // zero biases, unit LayerNorm gains.
  void init_weights(uint64_t seed);
  // Reseeds every dropout (so a resumed run draws the same masks).
  void reseed_dropout(uint64_t seed);
  // Fused by default; the choice covers hidden, logits, loss and forward_cached.
  void set_kernels(Kernels kernels);
  Kernels kernels() const { return kernels_; }

  // ids (B·T, row-major) -> final hidden states (B, T, C).
  Tensor hidden(const std::vector<int32_t>& ids, int64_t batch, int64_t seq);
  // -> logits (B, T, V).
  Tensor logits(const std::vector<int32_t>& ids, int64_t batch, int64_t seq);
  // Mean cross-entropy of the logits at each position against targets (B·T; ignore_index
  // positions do not count). Fused, the logits never materialise whole.
  Tensor loss(const std::vector<int32_t>& ids, const std::vector<int32_t>& targets, int64_t batch,
              int64_t seq, int32_t ignore_index = kIgnoreIndex);
  // The summed negative log-likelihood of the targets and how many counted (as for loss), and
  // their mean, under no-grad: what evaluation and the benchmark measure. The head is the tied
  // wte even under a training head (see set_training_head).
  ops::LmHeadLoss nll(const std::vector<int32_t>& ids, const std::vector<int32_t>& targets,
                      int64_t batch, int64_t seq, int32_t ignore_index = kIgnoreIndex);

  // On: every block's Linear layers and the tied LM head keep bf16 copies of their weights,
  // which forward_cached (generation) multiplies by, reading half the bytes per token (and
  // the blocks in other passes without gradients too); made again by another call after the
  // weights change. The float32 weights stay as they are. Off: the copies are dropped.
  void keep_bf16_weights(bool on);

  KVCache new_cache(int64_t batch) const;
  // Runs new tokens (B, T_new) through the model using and extending the cache; returns the
  // logits of the last new position (B, V).
  Tensor forward_cached(const std::vector<int32_t>& ids, int64_t batch, KVCache& cache);

  std::shared_ptr<Embedding> wte, wpe;
  std::vector<std::shared_ptr<Block>> h;
  std::shared_ptr<LayerNorm> ln_f;

  // A [V, C] weight that loss() projects onto instead of the tied wte, e.g. a trainable copy of
  // the LM head as PEFT's modules_to_save=["lm_head"] trains; an undefined tensor restores wte.
  // Only loss() uses it: it is not a module parameter and is not saved, so logits(), nll() and
  // generation keep the tied head.
  void set_training_head(const Tensor& weight);

 private:
  void check_ids(const std::vector<int32_t>& ids, int64_t batch, int64_t seq, int64_t past) const;
  Tensor embed(const std::vector<int32_t>& ids, int64_t batch, int64_t seq, int64_t past);

  GPT2Config config_;
  Kernels kernels_ = Kernels::Fused;
  std::shared_ptr<Dropout> embd_dropout_;
  Tensor training_head_;
  Bf16Matrix bf16_head_;  // wte [V, C] in bf16; empty when off
};

}  // namespace ls
