#include "lora/interference_probe.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "lora/weight_search.h"
#include "tensor/error.h"

namespace ls {

namespace {

std::vector<Batch> batches_of(const ProbeData& data, int64_t context) {
  return length_batches(data.examples, data.batch, std::min(data.seq_len, context));
}

// Sits in a module's list of adapters and, instead of adding anything, adds up the overlap of
// two deltas on the module's inputs at the positions `mask` marks.
class OverlapProbe : public LinearAdapter {
 public:
  OverlapProbe(const LowRank& a, const LowRank& b, const std::vector<uint8_t>& mask)
      : a_(a), b_(b), mask_(mask) {}
  Tensor delta(const Tensor& x, bool) override {
    Tensor rows = x.contiguous().view({-1, x.size(-1)});
    total.add(output_overlap(a_, b_, rows, mask_));
    Shape shape = x.shape();
    shape.back() = a_.out();
    return Tensor::zeros(shape);
  }
  OutputOverlap total;

 private:
  const LowRank &a_, &b_;
  const std::vector<uint8_t>& mask_;
};

// The modules both adapters have.
std::vector<std::string> shared_names(const AdapterFactors& a, const AdapterFactors& b) {
  std::vector<std::string> out;
  for (auto& [module, f] : a.modules)
    if (b.modules.count(module)) out.push_back(module);
  if (out.empty()) input_error("{} and {} have no module in common", a.name, b.name);
  return out;
}

Linear& linear_named(GPT2& model, const std::string& name) {
  Linear* linear = find_linear(model, name);
  if (!linear) input_error("the model has no linear module {}", name);
  return *linear;
}

}  // namespace

std::map<std::string, OutputOverlap> probe_outputs(GPT2& model, const AdapterFactors& a,
                                                   const AdapterFactors& b, const ProbeData& data) {
  NoGradGuard no_grad;
  model.set_training(false);
  std::vector<uint8_t> mask;
  std::map<std::string, std::shared_ptr<OverlapProbe>> probes;
  for (const std::string& m : shared_names(a, b)) {
    probes[m] = std::make_shared<OverlapProbe>(a.modules.at(m), b.modules.at(m), mask);
    linear_named(model, m).adapters().push_back(probes[m]);
  }
  for (const Batch& batch : batches_of(data, model.config().n_positions)) {
    mask.assign(batch.targets.size(), 0);
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = batch.targets[i] != kIgnoreIndex;
    model.hidden(batch.ids, batch.batch, batch.seq);
  }
  std::map<std::string, OutputOverlap> out;
  for (auto& [m, probe] : probes) {
    auto& list = linear_named(model, m).adapters();
    list.erase(std::find(list.begin(), list.end(), probe));
    out[m] = probe->total;
  }
  return out;
}

std::vector<Tensor> weight_gradients(GPT2& model, const std::vector<std::string>& modules,
                                     const ProbeData& data) {
  model.set_training(false);
  FrozenParameters frozen(model);
  std::vector<Tensor> weights;
  for (const std::string& m : modules) {
    weights.push_back(linear_named(model, m).weight());
    weights.back().zero_grad();
    weights.back().set_requires_grad(true);
  }
  std::vector<Batch> batches = batches_of(data, model.config().n_positions);
  double total = 0.0;
  for (const Batch& b : batches) total += static_cast<double>(b.counted_tokens());
  for (const Batch& b : batches)
    if (b.counted_tokens() > 0)
      backward(ag::scale(model.loss(b.ids, b.targets, b.batch, b.seq),
                         static_cast<float>(b.counted_tokens() / total)));
  std::vector<Tensor> grads;
  for (Tensor& w : weights) {
    grads.push_back(w.grad().defined() ? w.grad().contiguous() : Tensor::zeros(w.shape()));
    w.zero_grad();
  }
  return grads;
}

double disentanglement_error(GPT2& model, LoraAdapter& single,
                             const std::vector<LoraAdapter*>& others, const ProbeData& data) {
  NoGradGuard no_grad;
  model.set_training(false);
  KlTotal kl;
  for (const Batch& b : batches_of(data, model.config().n_positions)) {
    single.attach(model);
    Tensor p = model.logits(b.ids, b.batch, b.seq);
    for (LoraAdapter* o : others) o->attach(model);
    Tensor q = model.logits(b.ids, b.batch, b.seq);
    for (LoraAdapter* o : others) o->detach(model);
    single.detach(model);
    KlTotal part = token_kl(p, q, b.targets);
    kl.total += part.total;
    kl.tokens += part.tokens;
  }
  return kl.mean();
}

std::map<std::string, double> base_weight_norms(GPT2& model) {
  std::map<std::string, double> out;
  for (auto& [name, module] : model.named_modules())
    if (auto* linear = dynamic_cast<Linear*>(module)) {
      Tensor w = linear->weight().contiguous();
      double sq = 0.0;
      for (int64_t i = 0; i < w.numel(); ++i) sq += double(w.data()[i]) * w.data()[i];
      out[name] = std::sqrt(sq);
    }
  return out;
}

namespace {

// Cross-talk (mean) and activation cosine (RMS) over modules, from the overlaps measured on
// a's domain (a in the first slot) and on b's domain (b in the first slot).
std::pair<double, double> summarise(
    const std::vector<std::map<std::string, OutputOverlap>>& sides) {
  double talk = 0.0, cos_sq = 0.0;
  int talks = 0, cosines = 0;
  for (const auto& side : sides)
    for (auto& [module, o] : side) {
      if (double t = o.cross_talk(); !std::isnan(t)) talk += t, ++talks;
      if (double c = o.cosine(); !std::isnan(c)) cos_sq += c * c, ++cosines;
    }
  const double nan = std::nan("");
  return {talks ? talk / talks : nan, cosines ? std::sqrt(cos_sq / cosines) : nan};
}

}  // namespace

PairInterference pair_interference(GPT2& model, LoraAdapter& a, LoraAdapter& b,
                                   const ProbeData& data_a, const ProbeData& data_b) {
  AdapterFactors fa = AdapterFactors::of(a, "a"), fb = AdapterFactors::of(b, "b");
  PairInterference r;
  std::tie(r.cross_talk, r.activation_cosine) =
      summarise({probe_outputs(model, fa, fb, data_a), probe_outputs(model, fb, fa, data_b)});
  std::vector<std::string> shared = shared_names(fa, fb);
  r.gradient_cosine =
      flat_cosine(weight_gradients(model, shared, data_a), weight_gradients(model, shared, data_b));
  r.xi_a = disentanglement_error(model, a, {&b}, data_a);
  r.xi_b = disentanglement_error(model, b, {&a}, data_b);
  r.norms = norm_baseline(fa, fb);
  std::map<std::string, double> base = base_weight_norms(model);
  r.relative_norm_a = relative_delta_norm(fa, base);
  r.relative_norm_b = relative_delta_norm(fb, base);
  return r;
}

}  // namespace ls
