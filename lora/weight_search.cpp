#include "lora/weight_search.h"

#include <algorithm>
#include <numeric>

#include "nn/optim.h"
#include "tensor/error.h"

namespace ls {

namespace {

// One module of one adapter: s·B·(A x), times a trainable scalar, the factors frozen.
class ScaledDelta : public LinearAdapter {
 public:
  ScaledDelta(const LowRank& f, Tensor weight) : f_(f), weight_(std::move(weight)) {}
  Tensor delta(const Tensor& x, bool) override {
    Tensor down = ag::linear(x, f_.A, Tensor(), false);  // (.., r): weighted while narrow
    Tensor weighted = ag::mul(ag::scale(down, f_.scale), weight_);
    return ag::linear(weighted, f_.B, Tensor(), false);
  }

 private:
  LowRank f_;
  Tensor weight_;
};

Linear& matching_linear(GPT2& model, const AdapterFactors& a, const std::string& module,
                        const LowRank& f) {
  Linear* linear = find_linear(model, module);
  if (!linear) input_error("{}: module {} is not in the model", a.name, module);
  if (linear->in_features() != f.in() || linear->out_features() != f.out())
    input_error("{}: module {} is [{}, {}] (out, in) in the adapter but [{}, {}] in the model",
                a.name, module, f.out(), f.in(), linear->out_features(), linear->in_features());
  return *linear;
}

// Which weight of an adapter scales this module: its kind's, or the one weight of {"all"}.
size_t kind_index(const std::vector<std::string>& kinds, const std::string& module) {
  if (kinds.size() == 1 && kinds.front() == "all") return 0;
  auto it = std::find(kinds.begin(), kinds.end(), module_place(module).kind);
  LS_CHECK(it != kinds.end(), "no weight for the kind of module {}", module);
  return static_cast<size_t>(it - kinds.begin());
}

}  // namespace

FrozenParameters::FrozenParameters(const Module& model) : params_(model.parameters()) {
  for (Tensor& p : params_) {
    was_.push_back(p.requires_grad());
    p.set_requires_grad(false);
  }
}

FrozenParameters::~FrozenParameters() {
  for (size_t i = 0; i < params_.size(); ++i) params_[i].set_requires_grad(was_[i]);
}

std::vector<Batch> length_batches(const std::vector<Example>& examples, int64_t batch,
                                  int64_t seq_len) {
  if (examples.empty()) input_error("no examples to score");
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return examples[x].tokens.size() < examples[y].tokens.size();
  });
  std::vector<Batch> out;
  const auto step = static_cast<size_t>(std::max<int64_t>(1, batch));
  for (size_t at = 0; at < order.size(); at += step) {
    std::vector<size_t> idx(order.begin() + at, order.begin() + std::min(order.size(), at + step));
    out.push_back(make_batch(examples, idx, seq_len, 0));
  }
  return out;
}

WeightedSum::WeightedSum(GPT2& model, const std::vector<AdapterFactors>& adapters, bool per_module)
    : model_(model) {
  if (per_module) {
    for (const AdapterFactors& a : adapters)
      for (auto& [module, f] : a.modules) kinds_.push_back(module_place(module).kind);
    std::sort(kinds_.begin(), kinds_.end());
    kinds_.erase(std::unique(kinds_.begin(), kinds_.end()), kinds_.end());
  } else {
    kinds_ = {"all"};
  }
  for (const AdapterFactors& a : adapters) {
    weights_.emplace_back();
    for (size_t k = 0; k < kinds_.size(); ++k)
      weights_.back().push_back(Tensor::ones({1}).set_requires_grad(true));
    for (auto& [module, f] : a.modules) {
      Linear& linear = matching_linear(model, a, module, f);
      auto delta = std::make_shared<ScaledDelta>(f, weights_.back()[kind_index(kinds_, module)]);
      linear.adapters().push_back(delta);
      attached_.emplace_back(&linear, delta);
    }
  }
}

WeightedSum::~WeightedSum() {
  for (auto& [linear, delta] : attached_) {
    auto& list = linear->adapters();
    list.erase(std::find(list.begin(), list.end(), delta));
  }
}

std::vector<std::vector<float>> WeightedSum::values() const {
  std::vector<std::vector<float>> out;
  for (const auto& row : weights_) {
    out.emplace_back();
    for (const Tensor& w : row) out.back().push_back(w.item());
  }
  return out;
}

void WeightedSum::set(const std::vector<std::vector<float>>& values) {
  LS_CHECK(values.size() == weights_.size(), "{} weight rows for {} adapters", values.size(),
           weights_.size());
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t k = 0; k < values[i].size(); ++k) weights_[i].at(k).data()[0] = values[i][k];
}

double WeightedSum::loss(const std::vector<Batch>& batches, bool gradient) {
  model_.set_training(false);
  double total = 0.0, sum = 0.0;
  for (const Batch& b : batches) total += static_cast<double>(b.counted_tokens());
  if (!(total > 0)) input_error("the validation data has no counted token");
  for (const Batch& b : batches) {
    if (b.counted_tokens() == 0) continue;
    auto share = static_cast<float>(b.counted_tokens() / total);
    if (!gradient) {
      NoGradGuard no_grad;
      sum += model_.nll(b.ids, b.targets, b.batch, b.seq).total_nll / total;
      continue;
    }
    Tensor part = ag::scale(model_.loss(b.ids, b.targets, b.batch, b.seq), share);
    sum += part.item();
    backward(part);
  }
  return sum;
}

WeightSearch search_weights(GPT2& model, const std::vector<AdapterFactors>& adapters,
                            const std::vector<Example>& validation,
                            const WeightSearchOptions& options) {
  FrozenParameters frozen(model);
  WeightedSum sum(model, adapters, options.per_module);
  std::vector<Batch> batches = length_batches(
      validation, options.batch, std::min(options.seq_len, model.config().n_positions));
  std::vector<Tensor> params;
  for (const auto& row : sum.weights()) params.insert(params.end(), row.begin(), row.end());
  AdamW adam(params, {.weight_decay = 0.0f});
  WeightSearch best{sum.kinds(), sum.values(), 0.0, 0.0, 0};
  double mark = 0.0;  // the best loss `patience` steps before
  for (int step = 0;; ++step) {
    adam.zero_grad();
    double loss = sum.loss(batches, step < options.steps);  // the last pass only scores
    if (step == 0) best.loss_before = best.loss_after = mark = loss;
    if (loss < best.loss_after) {
      best.loss_after = loss;
      best.weights = sum.values();
    }
    bool stalled =
        step > 0 && step % options.patience == 0 && mark - best.loss_after < options.tolerance;
    if (step % options.patience == 0) mark = best.loss_after;
    if (step == options.steps || stalled) break;
    adam.step(options.lr);
    best.steps = step + 1;
  }
  adam.zero_grad();
  return best;
}

std::vector<AdapterFactors> apply_weights(const std::vector<AdapterFactors>& adapters,
                                          const WeightSearch& search) {
  LS_CHECK(search.weights.size() == adapters.size(), "{} weight rows for {} adapters",
           search.weights.size(), adapters.size());
  std::vector<AdapterFactors> out = adapters;
  for (size_t i = 0; i < out.size(); ++i)
    for (auto& [module, f] : out[i].modules)
      f.scale *= search.weights[i].at(kind_index(search.kinds, module));
  return out;
}

}  // namespace ls
