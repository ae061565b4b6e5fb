#pragma once
// Composing LoRA adapters into one update per module:
//   sum   ΔW = Σ wᵢ·sᵢ·BᵢAᵢ, exactly, as one adapter of rank Σrᵢ (the A's and B's stacked);
//   svd   that sum truncated to rank K by an SVD through the factors;
//   ties  TIES-Merging (Yadav et al. 2023) of the dense deltas wᵢ·sᵢ·BᵢAᵢ;
//   dare  DARE (Yu et al. 2023): drop-and-rescale of each delta, then their sum.
// TIES and DARE give dense deltas; as an adapter they are compressed to rank K by a randomized
// SVD, merged into a model's weights they are used exactly.
#include <string>
#include <vector>

#include "gpt2/model.h"
#include "lora/factors.h"
#include "tensor/random.h"

namespace ls {

enum class MergeMethod { sum, svd, ties, dare };
// TIES and DARE work entry by entry, so they need the dense deltas.
inline bool is_dense(MergeMethod m) { return m == MergeMethod::ties || m == MergeMethod::dare; }

struct MergeOptions {
  MergeMethod method = MergeMethod::sum;
  std::vector<float> weights;  // one per adapter; empty = all 1
  int64_t rank = 0;            // svd, ties, dare: rank of the result; 0 = Σrᵢ
  float density = 1.0f;        // ties, dare: fraction of each delta's entries kept
  uint64_t seed = 0;           // dare: the drop masks
};
// From MergeOptions::seed: the seed of DARE's drop mask of the index-th merged module.
inline constexpr SeedStream kMergeModuleSeeds{SeedStream::Rule::Salt, kGoldenGamma};

struct Composition {
  AdapterFactors adapter;
  // Σ over modules of ‖ΔW‖²_F for the exact composition, and of the part the adapter keeps
  // (equal for sum; the retained singular values' energy for svd, ties and dare).
  double energy = 0.0, kept_energy = 0.0;
};

// Throws InputError when the adapters cannot be composed: a module whose shape differs
// between adapters, a weight count that is not one per adapter, an out-of-range option.
void check_composable(const std::vector<AdapterFactors>& adapters, const MergeOptions& options);

// The composition as one adapter, every module of rank K (Σrᵢ for sum).
Composition compose(const std::vector<AdapterFactors>& adapters, const MergeOptions& options);

// Adds the composition to the model's weights (TIES and DARE uncompressed); InputError when
// a module is not in the model or has another shape.
void compose_into(GPT2& model, const std::vector<AdapterFactors>& adapters,
                  const MergeOptions& options);

// The dense steps, on deltas of one shape.
// TIES: keep each delta's round(density·n) largest-magnitude entries; elect each entry's sign as
// that of the sum of the trimmed deltas; average the trimmed entries that carry that sign.
Tensor ties_merge(const std::vector<Tensor>& deltas, float density);
// DARE: keep each entry with probability density, scaling survivors by 1/density; then sum.
Tensor dare_merge(const std::vector<Tensor>& deltas, float density, Rng& rng);

}  // namespace ls
