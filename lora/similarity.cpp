#include "lora/similarity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "tensor/error.h"
#include "tensor/random.h"

namespace ls {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Running ⟨x, y⟩, ‖x‖², ‖y‖² of two vectors built up piece by piece.
struct Dots {
  double xy = 0.0, xx = 0.0, yy = 0.0;
  void add(double dxy, double dxx, double dyy) { xy += dxy, xx += dxx, yy += dyy; }
  void add(const Tensor& x, const Tensor& y) {
    Tensor cx = x.contiguous(), cy = y.contiguous();
    const float *px = cx.data(), *py = cy.data();
    for (int64_t i = 0; i < cx.numel(); ++i)
      add(double(px[i]) * py[i], double(px[i]) * px[i], double(py[i]) * py[i]);
  }
  double cosine() const { return xx > 0.0 && yy > 0.0 ? xy / std::sqrt(xx * yy) : kNaN; }
};

// The modules a and b both have, in layer order; InputError if none, or if shapes differ.
std::vector<std::string> shared_modules(const AdapterFactors& a, const AdapterFactors& b) {
  std::vector<std::string> shared;
  for (auto& [module, x] : a.modules) {
    auto it = b.modules.find(module);
    if (it == b.modules.end()) continue;
    const LowRank& y = it->second;
    if (x.in() != y.in() || x.out() != y.out())
      input_error("{} and {} disagree on module {}: [{}, {}] vs [{}, {}] (out, in)", a.name, b.name,
                  module, x.out(), x.in(), y.out(), y.in());
    shared.push_back(module);
  }
  if (shared.empty()) input_error("{} and {} have no module in common", a.name, b.name);
  std::sort(shared.begin(), shared.end(), module_order);
  return shared;
}

}  // namespace

double delta_inner(const LowRank& x, const LowRank& y) {
  LS_CHECK(x.in() == y.in() && x.out() == y.out(), "delta_inner of [{}, {}] and [{}, {}]", x.out(),
           x.in(), y.out(), y.in());
  const int64_t rx = x.rank(), ry = y.rank(), in = x.in(), out = x.out();
  Tensor ax = x.A.contiguous(), ay = y.A.contiguous(), bx = x.B.contiguous(), by = y.B.contiguous();
  std::vector<double> bb(rx * ry, 0.0);  // B₁ᵀB₂
  for (int64_t o = 0; o < out; ++o)
    for (int64_t k = 0; k < rx; ++k) {
      double v = bx.data()[o * rx + k];
      for (int64_t l = 0; l < ry; ++l) bb[k * ry + l] += v * by.data()[o * ry + l];
    }
  double total = 0.0;
  for (int64_t k = 0; k < rx; ++k)
    for (int64_t l = 0; l < ry; ++l) {  // (A₁A₂ᵀ)ₖₗ
      const float *p = ax.data() + k * in, *q = ay.data() + l * in;
      double aa = 0.0;
      for (int64_t i = 0; i < in; ++i) aa += double(p[i]) * q[i];
      total += bb[k * ry + l] * aa;
    }
  return double(x.scale) * y.scale * total;
}

double delta_cosine(const LowRank& x, const LowRank& y) {
  Dots d;
  d.add(delta_inner(x, y), delta_inner(x, x), delta_inner(y, y));
  return d.cosine();
}

SimilarityReport adapter_similarity(const AdapterFactors& a, const AdapterFactors& b) {
  SimilarityReport r;
  Dots flat, pa, pb;
  bool same_ranks = true;
  for (const std::string& module : shared_modules(a, b)) {
    const LowRank &x = a.modules.at(module), &y = b.modules.at(module);
    Dots d;
    d.add(delta_inner(x, y), delta_inner(x, x), delta_inner(y, y));
    flat.add(d.xy, d.xx, d.yy);
    r.modules.push_back({module, d.cosine(), std::sqrt(d.xx), std::sqrt(d.yy)});
    same_ranks = same_ranks && x.rank() == y.rank();
    if (same_ranks) pa.add(x.A, y.A), pb.add(x.B, y.B);
  }
  double count = 0.0, squares = 0.0, abs_sum = 0.0;
  for (const ModuleCosine& m : r.modules) {
    if (std::isnan(m.cosine)) continue;
    count += 1.0;
    squares += m.cosine * m.cosine;
    abs_sum += std::abs(m.cosine);
    if (std::abs(m.cosine) >= r.max_abs_cosine) {
      r.max_abs_cosine = std::abs(m.cosine);
      r.max_module = m.module;
    }
  }
  r.rms_cosine = count ? std::sqrt(squares / count) : kNaN;
  r.mean_abs_cosine = count ? abs_sum / count : kNaN;
  if (!count) r.max_abs_cosine = kNaN;
  r.flat_delta_cosine = flat.cosine();
  Dots both = pa;
  both.add(pb.xy, pb.xx, pb.yy);
  r.param_cosine = same_ranks ? both.cosine() : kNaN;
  r.param_cosine_A = same_ranks ? pa.cosine() : kNaN;
  r.param_cosine_B = same_ranks ? pb.cosine() : kNaN;
  return r;
}

SimilarityReport adapter_similarity(const LoraAdapter& a, const LoraAdapter& b) {
  return adapter_similarity(AdapterFactors::of(a, "adapter 1"), AdapterFactors::of(b, "adapter 2"));
}

Baseline random_baseline(const AdapterFactors& a, const AdapterFactors& b, int trials,
                         uint64_t seed) {
  std::vector<std::string> shared = shared_modules(a, b);
  Baseline out;
  out.trials = trials;
  for (const std::string& module : shared) {
    const LowRank& x = a.modules.at(module);
    out.analytic_rms += 1.0 / (double(x.in()) * x.out()) / shared.size();
  }
  out.analytic_rms = std::sqrt(out.analytic_rms);
  Rng rng(seed);
  auto random_like = [&](const LowRank& f) {
    return LowRank::random(f.out(), f.in(), f.rank(), rng);
  };
  double sum = 0.0, squares = 0.0;
  for (int t = 0; t < trials; ++t) {
    double mean_square = 0.0;
    for (const std::string& module : shared) {
      double c = delta_cosine(random_like(a.modules.at(module)), random_like(b.modules.at(module)));
      mean_square += c * c / shared.size();
    }
    sum += std::sqrt(mean_square);
    squares += mean_square;
  }
  if (trials > 0) {
    out.rms_mean = sum / trials;
    out.rms_std = std::sqrt(std::max(0.0, squares / trials - out.rms_mean * out.rms_mean));
  }
  return out;
}

CosineGrid cosine_grid(const SimilarityReport& report) {
  std::map<int64_t, std::map<std::string, double>> by_layer;
  std::set<std::string> kinds;
  for (const ModuleCosine& m : report.modules) {
    ModulePlace place = module_place(m.module);
    by_layer[place.layer][place.kind] = m.cosine;
    kinds.insert(place.kind);
  }
  CosineGrid grid;
  grid.kinds.assign(kinds.begin(), kinds.end());
  for (const auto& [layer, row] : by_layer) {
    grid.layers.push_back(layer >= 0 ? std::to_string(layer) : "-");
    std::vector<double>& values = grid.cosines.emplace_back();
    for (const std::string& kind : grid.kinds) {
      auto found = row.find(kind);
      values.push_back(found == row.end() ? kNaN : found->second);
    }
  }
  return grid;
}

}  // namespace ls
