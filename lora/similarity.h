#pragma once
// How much two adapters overlap: the cosine similarity of their weight deltas ΔW = s·B·A, per
// module and summarised, computed from the factors without forming ΔW:
//   ⟨s₁B₁A₁, s₂B₂A₂⟩_F = s₁s₂ · Σ (B₁ᵀB₂) ∘ (A₁A₂ᵀ),
// which costs O((in + out)·r₁·r₂) instead of O(in·out·r).
//
// A report holds several summaries; the default is rms_cosine, the root mean square over shared
// modules of the per-module delta cosines (which summary a caller reports is its choice, see
// experiments/README.md).
#include <string>
#include <vector>

#include "lora/factors.h"

namespace ls {

double delta_inner(const LowRank& x, const LowRank& y);   // ⟨ΔWx, ΔWy⟩_F
double delta_cosine(const LowRank& x, const LowRank& y);  // NaN when either delta is zero

struct ModuleCosine {
  std::string module;
  double cosine = 0.0;                // NaN when either delta is zero
  double norm_a = 0.0, norm_b = 0.0;  // ‖ΔW‖_F of each
};

struct SimilarityReport {
  std::vector<ModuleCosine> modules;  // the modules both adapters have, in layer order
  // Over the modules whose cosine is defined:
  double rms_cosine = 0.0;       // √(mean cos²): the default metric
  double mean_abs_cosine = 0.0;  // mean |cos|
  double max_abs_cosine = 0.0;   // max |cos|, at max_module
  std::string max_module;
  // Cosine of all shared modules' deltas concatenated into one vector.
  double flat_delta_cosine = 0.0;
  // Cosine of the raw stored parameters, flattened over the shared modules: A's and B's
  // together, and each alone. NaN when a shared module's ranks differ.
  double param_cosine = 0.0, param_cosine_A = 0.0, param_cosine_B = 0.0;
};

// A report's per-module cosines as a layer × module-kind table, for heatmaps and text: rows
// by ascending layer ("-" for modules outside the blocks), kinds in alphabetical order, NaN
// where a layer lacks a kind.
struct CosineGrid {
  std::vector<std::string> layers, kinds;
  std::vector<std::vector<double>> cosines;  // [layer row][kind column]
};
CosineGrid cosine_grid(const SimilarityReport& report);

// InputError when the adapters share no module or a shared module's shapes differ.
SimilarityReport adapter_similarity(const AdapterFactors& a, const AdapterFactors& b);
SimilarityReport adapter_similarity(const LoraAdapter& a, const LoraAdapter& b);

// What "nearly orthogonal" means at these shapes: the RMS delta cosine between adapters whose
// factors are independent Gaussians, with the ranks and shapes of a's and b's shared modules.
struct Baseline {
  int trials = 0;
  double rms_mean = 0.0, rms_std = 0.0;  // over the trials
  // For independent Gaussian factors E[cos²] = 1/(in·out) per module, so √(mean over modules
  // of 1/(in·out)): the value rms_mean approaches as the number of modules grows (with few
  // modules rms_mean is lower, E[√x] < √E[x]).
  double analytic_rms = 0.0;
};
Baseline random_baseline(const AdapterFactors& a, const AdapterFactors& b, int trials = 16,
                         uint64_t seed = 0);

}  // namespace ls
