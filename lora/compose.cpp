#include "lora/compose.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "lora/similarity.h"
#include "tensor/error.h"
#include "tensor/linalg.h"
#include "tensor/ops.h"

namespace ls {

namespace {

using Shapes = std::map<std::string, std::pair<int64_t, int64_t>>;  // module -> (out, in)

float weight_of(const MergeOptions& o, size_t i) { return o.weights.empty() ? 1.0f : o.weights[i]; }

int64_t total_rank(const std::vector<AdapterFactors>& adapters) {
  int64_t r = 0;
  for (const AdapterFactors& a : adapters) r += a.rank();
  return r;
}

// Every module some adapter touches, with its shape; InputError where adapters disagree.
Shapes module_shapes(const std::vector<AdapterFactors>& adapters) {
  Shapes shapes;
  std::map<std::string, const AdapterFactors*> first;
  for (const AdapterFactors& a : adapters)
    for (auto& [module, f] : a.modules) {
      auto [it, fresh] = shapes.emplace(module, std::make_pair(f.out(), f.in()));
      if (fresh)
        first[module] = &a;
      else if (it->second != std::make_pair(f.out(), f.in()))
        input_error(
            "{} and {} disagree on module {}: [{}, {}] vs [{}, {}] (out, in); were they "
            "trained on different base models?",
            first[module]->name, a.name, module, it->second.first, it->second.second, f.out(),
            f.in());
    }
  return shapes;
}

// One module's summed delta as a single product B·A: the adapters' A's stacked as rows and
// their weighted B's as columns, adapter i in a fixed slot of width rᵢ (zero where it lacks
// the module), so the sum needs no approximation.
LowRank stacked(const std::vector<AdapterFactors>& adapters, const MergeOptions& o,
                const std::string& module, int64_t out, int64_t in) {
  int64_t total = total_rank(adapters), at = 0;
  LowRank s{Tensor::zeros({total, in}), Tensor::zeros({out, total}), 1.0f};
  for (size_t i = 0; i < adapters.size(); ++i) {
    auto it = adapters[i].modules.find(module);
    if (it != adapters[i].modules.end()) {
      const LowRank& f = it->second;
      s.A.slice(0, at, at + f.rank()).copy_from(f.A);
      s.B.slice(1, at, at + f.rank()).copy_from(ops::scale(f.B, weight_of(o, i) * f.scale));
    }
    at += adapters[i].rank();
  }
  return s;
}

// TIES or DARE on the dense deltas wᵢ·sᵢ·BᵢAᵢ of the adapters that have the module.
Tensor merged_dense(const std::vector<AdapterFactors>& adapters, const MergeOptions& o,
                    const std::string& module, uint64_t module_index) {
  std::vector<Tensor> deltas;
  for (size_t i = 0; i < adapters.size(); ++i) {
    auto it = adapters[i].modules.find(module);
    if (it == adapters[i].modules.end()) continue;
    LowRank f = it->second;
    f.scale *= weight_of(o, i);
    deltas.push_back(f.dense());
  }
  if (o.method == MergeMethod::ties) return ties_merge(deltas, o.density);
  Rng rng(derive_seed(o.seed, kMergeModuleSeeds, module_index));
  return dare_merge(deltas, o.density, rng);
}

// Factors of rank k from an SVD, √S on each side; zero-padded when it has fewer values.
LowRank from_svd(const linalg::SVD& s, int64_t k, int64_t out, int64_t in) {
  LowRank f{Tensor::zeros({k, in}), Tensor::zeros({out, k}), 1.0f};
  for (int64_t j = 0; j < std::min<int64_t>(k, s.S.size()); ++j) {
    double root = std::sqrt(s.S[j]);
    for (int64_t i = 0; i < out; ++i) f.B.data()[i * k + j] = static_cast<float>(s.U(i, j) * root);
    for (int64_t c = 0; c < in; ++c) f.A.data()[j * in + c] = static_cast<float>(s.V(c, j) * root);
  }
  return f;
}

double squared_sum(const std::vector<double>& values) {
  return std::inner_product(values.begin(), values.end(), values.begin(), 0.0);
}

// The entries of d outside its round(density·n) largest magnitudes set to zero; among equal
// magnitudes at the threshold the first ones are kept, so the count is exact.
std::vector<float> keep_largest(const Tensor& d, float density) {
  std::vector<float> v = d.to_vector();
  size_t k = static_cast<size_t>(std::llround(static_cast<double>(density) * v.size()));
  if (k >= v.size()) return v;
  if (k == 0) return std::vector<float>(v.size(), 0.0f);
  std::vector<float> magnitude(v.size());
  std::transform(v.begin(), v.end(), magnitude.begin(), [](float x) { return std::abs(x); });
  std::nth_element(magnitude.begin(), magnitude.begin() + (k - 1), magnitude.end(),
                   std::greater<float>());
  float threshold = magnitude[k - 1];
  size_t at_threshold =
      k - std::count_if(v.begin(), v.end(), [&](float x) { return std::abs(x) > threshold; });
  for (float& x : v) {
    if (std::abs(x) == threshold && at_threshold > 0)
      --at_threshold;
    else if (std::abs(x) <= threshold)
      x = 0.0f;
  }
  return v;
}

struct ModuleResult {
  LowRank factors;
  double energy = 0.0, kept = 0.0;
};

ModuleResult compose_module(const std::vector<AdapterFactors>& adapters, const MergeOptions& o,
                            const std::string& module, int64_t out, int64_t in, uint64_t index) {
  int64_t k = o.rank > 0 ? o.rank : total_rank(adapters);
  if (o.method == MergeMethod::sum) {
    LowRank s = stacked(adapters, o, module, out, in);
    double energy = delta_inner(s, s);
    return {s, energy, energy};
  }
  linalg::SVD s;
  double energy = 0.0;
  if (o.method == MergeMethod::svd) {
    LowRank sum = stacked(adapters, o, module, out, in);
    s = linalg::svd_of_product(linalg::Matrix::from(sum.B), linalg::Matrix::from(sum.A));
    energy = squared_sum(s.S);
  } else {
    Tensor dense = merged_dense(adapters, o, module, index);
    energy = ops::sum_all(ops::mul(dense, dense)).item();
    s = linalg::randomized_svd(dense, k, o.seed + index);
  }
  s.truncate(k);
  return {from_svd(s, k, out, in), energy, squared_sum(s.S)};
}

}  // namespace

void check_composable(const std::vector<AdapterFactors>& adapters, const MergeOptions& o) {
  if (adapters.empty()) input_error("no adapters to compose");
  if (!o.weights.empty() && o.weights.size() != adapters.size())
    input_error("{} weights given for {} adapters (one per adapter, in order)", o.weights.size(),
                adapters.size());
  for (float w : o.weights)
    if (!std::isfinite(w)) input_error("adapter weight {} is not a finite number", w);
  module_shapes(adapters);  // refuses modules whose shapes disagree
  if (o.rank < 0) input_error("rank {} must be positive", o.rank);
  if (o.method == MergeMethod::svd && o.rank > total_rank(adapters))
    input_error("rank {} exceeds the rank of the sum (Σr = {}), which is already exact at rank {}",
                o.rank, total_rank(adapters), total_rank(adapters));
  if (is_dense(o.method) && !(o.density > 0.0f && o.density <= 1.0f))
    input_error("density {} must be in (0, 1]", o.density);
}

Composition compose(const std::vector<AdapterFactors>& adapters, const MergeOptions& o) {
  check_composable(adapters, o);
  Composition c;
  c.adapter.name = "composition";
  c.adapter.config.base_model = adapters.front().config.base_model;
  for (const AdapterFactors& a : adapters)
    if (a.config.base_model != c.adapter.config.base_model) c.adapter.config.base_model.clear();
  uint64_t index = 0;
  for (auto& [module, shape] : module_shapes(adapters)) {
    ModuleResult r = compose_module(adapters, o, module, shape.first, shape.second, index++);
    c.adapter.modules[module] = r.factors;
    c.energy += r.energy;
    c.kept_energy += r.kept;
  }
  return c;
}

void compose_into(GPT2& model, const std::vector<AdapterFactors>& adapters, const MergeOptions& o) {
  check_composable(adapters, o);
  Shapes shapes = module_shapes(adapters);
  for (auto& [module, shape] : shapes) {  // every check before the first weight changes
    Linear* linear = find_linear(model, module);
    if (!linear) input_error("module {} is not in the model", module);
    if (linear->out_features() != shape.first || linear->in_features() != shape.second)
      input_error("module {} is [{}, {}] (out, in) in the adapters but [{}, {}] in the model",
                  module, shape.first, shape.second, linear->out_features(), linear->in_features());
  }
  uint64_t index = 0;
  for (auto& [module, shape] : shapes) {
    Tensor delta =
        is_dense(o.method)
            ? merged_dense(adapters, o, module, index)
            : compose_module(adapters, o, module, shape.first, shape.second, index).factors.dense();
    ++index;
    Linear* linear = find_linear(model, module);
    ops::add_into(linear->weight(),
                  linear->layout() == Linear::Layout::InOut ? delta.transpose(0, 1) : delta);
  }
}

Tensor ties_merge(const std::vector<Tensor>& deltas, float density) {
  LS_CHECK(!deltas.empty(), "ties_merge of no deltas");
  std::vector<std::vector<float>> trimmed;
  for (const Tensor& d : deltas) {
    LS_CHECK(d.shape() == deltas.front().shape(), "ties_merge of {} and {}", d.shape_str(),
             deltas.front().shape_str());
    trimmed.push_back(keep_largest(d, density));
  }
  Tensor out = Tensor::zeros(deltas.front().shape());
  float* merged = out.data();
  for (size_t e = 0; e < trimmed.front().size(); ++e) {
    double total = 0.0, agreeing = 0.0;
    int count = 0;
    for (const auto& t : trimmed) total += t[e];
    for (const auto& t : trimmed)
      if (t[e] != 0.0f && (t[e] > 0) == (total > 0)) agreeing += t[e], ++count;
    merged[e] = count && total != 0.0 ? static_cast<float>(agreeing / count) : 0.0f;
  }
  return out;
}

Tensor dare_merge(const std::vector<Tensor>& deltas, float density, Rng& rng) {
  LS_CHECK(!deltas.empty(), "dare_merge of no deltas");
  Tensor out = Tensor::zeros(deltas.front().shape());
  float* merged = out.data();
  for (const Tensor& d : deltas) {
    LS_CHECK(d.shape() == out.shape(), "dare_merge of {} and {}", d.shape_str(), out.shape_str());
    std::vector<float> v = d.to_vector();
    for (size_t e = 0; e < v.size(); ++e)
      if (rng.uniform() < density) merged[e] += v[e] / density;
  }
  return out;
}

}  // namespace ls
