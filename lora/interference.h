#pragma once
// Whether two adapters will interfere, measured on what they do rather than on their weights
// alone: the arithmetic of the measures, free of any model. interference_probe.h runs a model
// over data to feed them.
//   cross-talk            E‖ΔW_b h‖² / E‖ΔW_a h‖² over the inputs h of a's domain: how loudly
//                         the other adapter speaks on my inputs;
//   activation cosine     cos(ΔW_a h, ΔW_b h) pooled over the same inputs;
//   disentanglement ξ     mean over a domain's tokens of KL(p_single ‖ p_sum);
//   norm-only baseline    ‖ΔW_a‖·‖ΔW_b‖ and the ratio of the norms, the simple thing a
//                         data-aware measure has to beat.
#include <map>
#include <string>
#include <vector>

#include "lora/factors.h"
#include "tensor/ops.h"

namespace ls {

// The sums behind both output measures of one module, over rows h of its inputs:
// aa = Σ‖ΔW_a h‖², bb = Σ‖ΔW_b h‖², ab = Σ⟨ΔW_a h, ΔW_b h⟩.
struct OutputOverlap {
  double aa = 0.0, bb = 0.0, ab = 0.0;
  void add(const OutputOverlap& o) { aa += o.aa, bb += o.bb, ab += o.ab; }
  double cross_talk() const;  // bb / aa (NaN when aa = 0)
  double cosine() const;      // ab / √(aa·bb) (NaN when either is 0)
};

// The overlap of a's and b's outputs on the rows of x [n, in] whose mask entry is nonzero
// (every row when mask is empty), computed through the factors: ΔW h = s·B(A h).
OutputOverlap output_overlap(const LowRank& a, const LowRank& b, const Tensor& x,
                             const std::vector<uint8_t>& mask = {});

// Per-token KL(softmax(p) ‖ softmax(q)) summed over the positions of logits [.., V] whose
// target is not ignore_index (targets has one entry per position), in double precision.
struct KlTotal {
  double total = 0.0;
  int64_t tokens = 0;
  double mean() const;  // NaN when no token counted
};
KlTotal token_kl(const Tensor& logits_p, const Tensor& logits_q,
                 const std::vector<int32_t>& targets, int32_t ignore_index = kIgnoreIndex);

// ‖ΔW‖_F over all of an adapter's modules together.
double delta_norm(const AdapterFactors& a);
// RMS over the adapter's modules of ‖ΔW‖_F / ‖W‖_F, base_norms giving each module's ‖W‖_F;
// InputError when a module has no (or a zero) base norm.
double relative_delta_norm(const AdapterFactors& a,
                           const std::map<std::string, double>& base_norms);

struct NormBaseline {
  double product = 0.0;  // ‖ΔW_a‖·‖ΔW_b‖, each over all its modules
  double ratio = 0.0;    // the larger norm over the smaller (≥ 1; NaN when one is 0)
};
NormBaseline norm_baseline(const AdapterFactors& a, const AdapterFactors& b);

// The cosine of two lists of tensors, each flattened and concatenated (NaN when one is zero).
double flat_cosine(const std::vector<Tensor>& x, const std::vector<Tensor>& y);

}  // namespace ls
