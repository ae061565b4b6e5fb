// Data-aware interference measures: each on a hand-computed case, and the model-driven parts
// against an independent recording of the module inputs and against finite differences; the
// search for merge weights: its gradient by finite differences, and a harmful adapter.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "gpt2/training/evaluate.h"
#include "lora/compose.h"
#include "lora/interference_probe.h"
#include "lora/weight_search.h"
#include "nn/optim.h"
#include "tensor/error.h"
#include "tests/random_adapter.h"
#include "tests/test_models.h"

using namespace ls;

namespace {

LowRank factors(const Shape& a_shape, std::vector<float> a, const Shape& b_shape,
                std::vector<float> b, float scale = 1.0f) {
  return {Tensor::from(a_shape, a), Tensor::from(b_shape, b), scale};
}

// ΔW_a = [[2, 0], [0, 0]] and ΔW_b = [[0, 1], [0, 1]].
LowRank delta_a() { return factors({1, 2}, {1, 0}, {2, 1}, {1, 0}, 2.0f); }
LowRank delta_b() { return factors({1, 2}, {0, 1}, {2, 1}, {1, 1}); }

// A small QA-like data set of token ids for the micro model.
std::vector<Example> micro_examples(int count, uint64_t seed) {
  Rng rng(seed);
  std::vector<Example> out(count);
  for (int i = 0; i < count; ++i) {
    size_t length = 4 + static_cast<size_t>(rng.uniform() * 10);
    for (size_t t = 0; t < length; ++t)
      out[i].tokens.push_back(static_cast<int32_t>(rng.uniform() * 40));
  }
  return out;
}

std::shared_ptr<LoraAdapter> random_adapter(GPT2& model, uint64_t seed, float b_std = 0.2f) {
  return test::random_adapter(model, seed, b_std);
}

// Sequences that count by `step` modulo 40 from random starts.
std::vector<Example> counting(int count, int step, uint64_t seed) {
  Rng rng(seed);
  std::vector<Example> out(count);
  for (Example& e : out) {
    auto at = static_cast<int32_t>(rng.uniform() * 40);
    for (int t = 0; t < 12; ++t) e.tokens.push_back(((at + step * t) % 40 + 40) % 40);
  }
  return out;
}

// An adapter trained for a few full-batch Adam steps on the examples.
AdapterFactors fitted_adapter(GPT2& model, const std::vector<Example>& examples, uint64_t seed) {
  auto adapter = random_adapter(model, seed, 0.0f);
  FrozenParameters frozen(model);
  adapter->attach(model);
  AdamW adam(adapter->parameters(), {.weight_decay = 0.0f});
  std::vector<Batch> batches = length_batches(examples, 64, 16);
  for (int step = 0; step < 60; ++step) {
    adam.zero_grad();
    backward(model.loss(batches[0].ids, batches[0].targets, batches[0].batch, batches[0].seq));
    adam.step(3e-2f);
  }
  adapter->detach(model);
  return AdapterFactors::of(*adapter);
}

// Keeps a copy of every input its module receives.
struct Recorder : LinearAdapter {
  int64_t out;
  std::vector<Tensor> inputs;
  explicit Recorder(int64_t o) : out(o) {}
  Tensor delta(const Tensor& x, bool) override {
    inputs.push_back(x.contiguous().clone());
    Shape s = x.shape();
    s.back() = out;
    return Tensor::zeros(s);
  }
};

}  // namespace

TEST_CASE("output overlap of two deltas on hand-made inputs", "[interference]") {
  // h1 = (1, 2): ΔW_a h1 = (2, 0), ΔW_b h1 = (2, 2); h2 = (3, -1): (6, 0) and (-1, -1).
  Tensor x = Tensor::from({2, 2}, {1, 2, 3, -1});
  OutputOverlap all = output_overlap(delta_a(), delta_b(), x);
  CHECK(all.aa == Approx(40));
  CHECK(all.bb == Approx(10));
  CHECK(all.ab == Approx(-2));
  CHECK(all.cross_talk() == Approx(0.25));
  CHECK(all.cosine() == Approx(-0.1));
  OutputOverlap first = output_overlap(delta_a(), delta_b(), x, {1, 0});
  CHECK(first.cross_talk() == Approx(2.0));
  CHECK(first.cosine() == Approx(4.0 / std::sqrt(32.0)));
  CHECK(std::isnan(OutputOverlap{}.cosine()));
}

TEST_CASE("token KL on a fixed two-token example", "[interference]") {
  // Token 1: p = (1/2, 1/2), q = (3/4, 1/4). Token 2: p = (3/4, 1/4) (logits shifted by 5),
  // q = (1/2, 1/2). A third position has an ignored target and does not count.
  const float l3 = std::log(3.0f);
  Tensor p = Tensor::from({1, 3, 2}, {0, 0, 5 + l3, 5, 9, 1});
  Tensor q = Tensor::from({1, 3, 2}, {l3, 0, 0, 0, -4, 2});
  KlTotal kl = token_kl(p, q, {7, 1, kIgnoreIndex});
  double first = 0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(0.5 / 0.25);
  double second = 0.75 * std::log(0.75 / 0.5) + 0.25 * std::log(0.25 / 0.5);
  CHECK(kl.tokens == 2);
  CHECK(kl.total == Approx(first + second).epsilon(1e-6));
  CHECK(kl.mean() == Approx((first + second) / 2).epsilon(1e-6));
  CHECK(token_kl(p, p, {1, 1, 1}).total == Approx(0).margin(1e-9));
}

TEST_CASE("delta norms: relative to the base, the norm-only baseline, flat cosine",
          "[interference]") {
  AdapterFactors a{"first", {}, {}};
  a.modules["m1"] = delta_a();                                       // ‖ΔW‖ = 2
  a.modules["m2"] = factors({1, 2}, {3, 4}, {1, 1}, {1});            // ‖ΔW‖ = 5
  std::map<std::string, double> base = {{"m1", 4.0}, {"m2", 20.0}};  // ratios 0.5, 0.25
  CHECK(relative_delta_norm(a, base) == Approx(std::sqrt((0.25 + 0.0625) / 2)));
  CHECK_THROWS_AS(relative_delta_norm(a, {{"m1", 4.0}}), InputError);
  AdapterFactors b;
  b.modules["m1"] = factors({1, 2}, {1, 0}, {2, 1}, {2, 0});  // ‖ΔW‖ = 2
  NormBaseline n = norm_baseline(a, b);
  CHECK(n.product == Approx(2 * std::sqrt(29.0)));
  CHECK(n.ratio == Approx(std::sqrt(29.0) / 2));
  std::vector<Tensor> x = {Tensor::from({2}, {1, 2}), Tensor::from({1}, {3})};
  std::vector<Tensor> y = {Tensor::from({2}, {2, 0}), Tensor::from({1}, {0})};
  CHECK(flat_cosine(x, y) == Approx(2 / std::sqrt(56.0)));
}

TEST_CASE("probe_outputs equals the overlap on recorded module inputs", "[interference]") {
  GPT2 model(test::micro_config(16, 40, false), 3);
  auto a = random_adapter(model, 1), b = random_adapter(model, 2);
  AdapterFactors fa = AdapterFactors::of(*a), fb = AdapterFactors::of(*b);
  ProbeData data{micro_examples(7, 5), 3, 16};
  auto probed = probe_outputs(model, fa, fb, data);
  REQUIRE(probed.size() == fa.modules.size());
  const std::string module = "h.1.attn.c_proj";
  Linear* linear = find_linear(model, module);
  auto recorder = std::make_shared<Recorder>(linear->out_features());
  linear->adapters().push_back(recorder);
  // One example at a time: no padding, so every position but the last predicts a token.
  OutputOverlap expected;
  for (const Example& e : data.examples) {
    NoGradGuard no_grad;
    model.hidden(e.tokens, 1, static_cast<int64_t>(e.tokens.size()));
    Tensor x = recorder->inputs.back().view({-1, linear->in_features()});
    std::vector<uint8_t> mask(x.size(0), 1);
    mask.back() = 0;
    expected.add(output_overlap(fa.modules.at(module), fb.modules.at(module), x, mask));
  }
  linear->adapters().clear();
  CHECK(probed[module].aa == Approx(expected.aa).epsilon(1e-4));
  CHECK(probed[module].bb == Approx(expected.bb).epsilon(1e-4));
  CHECK(probed[module].ab == Approx(expected.ab).epsilon(1e-4));
}

TEST_CASE("weight gradients at the base match finite differences of the mean loss",
          "[interference]") {
  GPT2 model(test::micro_config(16, 40, false), 4);
  ProbeData data{micro_examples(6, 9), 4, 16};
  const std::string module = "h.0.mlp.c_fc";
  std::vector<Tensor> g = weight_gradients(model, {module}, data);
  REQUIRE(g.size() == 1);
  Tensor w = find_linear(model, module)->weight();
  CHECK(w.requires_grad());  // as the model had it
  CHECK_FALSE(w.grad().defined());
  auto mean_nll = [&] { return evaluate_perplexity(model, data.examples, 4, 16).mean_nll(); };
  for (int64_t i : {int64_t{3}, int64_t{77}, w.numel() - 5}) {
    float saved = w.data()[i], h = 1e-2f;
    w.data()[i] = saved + h;
    double up = mean_nll();
    w.data()[i] = saved - h;
    double down = mean_nll();
    w.data()[i] = saved;
    CHECK(g[0].data()[i] == Approx((up - down) / (2 * h)).margin(2e-4).epsilon(0.02));
  }
}

TEST_CASE("disentanglement error: zero for a silent partner, positive otherwise",
          "[interference]") {
  GPT2 model(test::micro_config(16, 40, false), 5);
  auto a = random_adapter(model, 1), b = random_adapter(model, 2),
       silent = random_adapter(model, 3, 0.0f);
  ProbeData data{micro_examples(5, 2), 2, 16};
  CHECK(disentanglement_error(model, *a, {silent.get()}, data) == Approx(0).margin(1e-7));
  double xi = disentanglement_error(model, *a, {b.get()}, data);
  CHECK(xi > 1e-4);
  PairInterference p = pair_interference(model, *a, *b, data, data);
  CHECK(p.xi_a == Approx(xi));
  CHECK(std::abs(p.gradient_cosine - 1.0) < 1e-5);  // the same data on both sides
  CHECK(p.relative_norm_a > 0);
  CHECK(p.cross_talk > 0);
}

TEST_CASE("the gradient of the weighted sum's loss w.r.t. the weights, by finite differences",
          "[weight-search]") {
  GPT2 model(test::micro_config(16, 40, false), 6);
  std::vector<AdapterFactors> adapters = {AdapterFactors::of(*random_adapter(model, 1)),
                                          AdapterFactors::of(*random_adapter(model, 2))};
  std::vector<Batch> batches = length_batches(micro_examples(6, 3), 4, 16);
  FrozenParameters frozen(model);
  WeightedSum sum(model, adapters, /*per_module=*/true);
  REQUIRE(sum.kinds() == std::vector<std::string>{"attn.c_attn", "attn.c_proj", "mlp.c_proj"});
  std::vector<std::vector<float>> at = {{0.7f, 1.3f, 1.1f}, {-0.4f, 0.9f, 0.2f}};
  sum.set(at);
  double loss = sum.loss(batches, true);
  CHECK(loss == Approx(sum.loss(batches, false)).epsilon(1e-5));
  for (size_t i = 0; i < 2; ++i)
    for (size_t k = 0; k < 3; ++k) {
      const float h = 1e-2f;
      auto moved = at;
      moved[i][k] += h;
      sum.set(moved);
      double up = sum.loss(batches, false);
      moved[i][k] -= 2 * h;
      sum.set(moved);
      double down = sum.loss(batches, false);
      CHECK(sum.weights()[i][k].grad().item() ==
            Approx((up - down) / (2 * h)).margin(1e-4).epsilon(0.02));
    }
  // Folded in, each module's scale carries its adapter's weight for that module's kind.
  WeightSearch found{sum.kinds(), at, 0.0, 0.0, 0};
  std::vector<AdapterFactors> weighted = apply_weights(adapters, found);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(weighted[i].modules.at("h.1.attn.c_attn").scale ==
          adapters[i].modules.at("h.1.attn.c_attn").scale * at[i][0]);
    CHECK(weighted[i].modules.at("h.0.mlp.c_proj").scale ==
          adapters[i].modules.at("h.0.mlp.c_proj").scale * at[i][2]);
  }
}

TEST_CASE("the search drives a harmful adapter's weight toward 0", "[weight-search]") {
  GPT2 model(test::micro_config(16, 40, false), 7);
  // A larger tied head lets the adapters move the predictions far.
  Tensor wte = model.wte->weight();
  for (int64_t i = 0; i < wte.numel(); ++i) wte.data()[i] *= 10.0f;
  // One adapter learns to count up, the other to count down; the data counts up.
  std::vector<Example> up = counting(12, +1, 1), down = counting(12, -1, 2);
  std::vector<AdapterFactors> adapters = {fitted_adapter(model, up, 1),
                                          fitted_adapter(model, down, 2)};
  WeightSearchOptions o;
  o.steps = 40;
  WeightSearch s = search_weights(model, adapters, counting(8, +1, 3), o);
  REQUIRE(s.weights.size() == 2);
  CHECK(s.weights[0][0] > 0.8f);
  CHECK(s.weights[1][0] < 0.3f);
  CHECK(s.loss_after < s.loss_before - 0.1);
  CHECK(model.parameters().front().requires_grad());  // the model's flags are restored
  // The weights folded into the scales give exactly what compose's weights give.
  MergeOptions weighted;
  weighted.weights = {s.weights[0][0], s.weights[1][0]};
  Composition a = compose(apply_weights(adapters, s), {}), b = compose(adapters, weighted);
  for (auto& [module, f] : a.adapter.modules)
    CHECK(f.B.to_vector() == b.adapter.modules.at(module).B.to_vector());
}
