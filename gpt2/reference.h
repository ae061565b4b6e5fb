#pragma once
// GPT-2's attention and LM-head loss written as plain autograd ops: the definitions that the
// fused kernels ag::attention and ag::lm_head_loss (tensor/fused.h) optimise. The model runs
// them when set to Kernels::Reference (gpt2/model.h); tests hold the two paths equal.
//
// Shapes: B batch, T positions (Tq queries, Tk keys), C channels, H heads of D = C/H
// channels, V vocabulary, N = B·T rows.
#include <cstdint>
#include <vector>

#include "autograd/autograd.h"

namespace ls::reference {

// Causal multi-head attention: q (B,Tq,C), k and v (B,Tk,C) with Tk ≥ Tq -> (B,Tq,C).
// Query i sits at key position Tk − Tq + i and sees the keys up to it (Tq = Tk in training;
// Tq < Tk when new tokens attend to cached ones).
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int64_t n_head);

// The same over packed projections qkv (B,T,3C) = [q | k | v] -> (B,T,C), as ag::attention.
Tensor attention(const Tensor& qkv, int64_t n_head);

// Mean cross-entropy of logits = hidden (B,T,C) · head (V,C)ᵀ against targets (N), as
// ag::lm_head_loss; rows whose target is ignore_index do not count.
Tensor lm_head_loss(const Tensor& hidden, const Tensor& head, const std::vector<int32_t>& targets,
                    int32_t ignore_index = kIgnoreIndex);

}  // namespace ls::reference
