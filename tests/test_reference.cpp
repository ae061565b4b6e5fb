// The reference path (gpt2/reference.h) against the fused kernels: a micro GPT-2 gives the
// same logits, loss, gradients and perplexity either way, with and without a LoRA adapter.
#include <catch2/catch.hpp>
#include <map>

#include "gpt2/training/evaluate.h"
#include "lora/lora.h"
#include "tests/naive.h"
#include "tests/test_models.h"

using namespace ls;

namespace {

// Two sequences of 70 tokens: three of the fused kernel's 32-query blocks, so the key blocks
// it skips are exercised. Some targets are ignored, as padding and prompts are in training.
constexpr int64_t kBatch = 2, kSeq = 70;

std::vector<int32_t> tokens(uint64_t seed, int32_t vocab) {
  Rng rng(seed);
  std::vector<int32_t> ids(kBatch * kSeq);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng.below(vocab));
  return ids;
}

std::vector<int32_t> targets_with_ignored(const std::vector<int32_t>& ids) {
  std::vector<int32_t> targets(ids.begin() + 1, ids.end());
  targets.push_back(-100);
  for (size_t i = 0; i < targets.size(); i += 5) targets[i] = -100;
  return targets;
}

struct Run {
  std::vector<float> logits;
  float loss = 0.0f;
  std::map<std::string, std::vector<float>> grads;  // by parameter name
};

using Named = std::vector<std::pair<std::string, Tensor>>;

// A model in training mode (dropout on), its adapter if any, and the parameters to compare.
struct Setup {
  GPT2& model;
  LoraAdapter* adapter;
  Named params;
};

// Every dropout reseeded, so that both paths draw the same masks.
void reseed(const Setup& s) {
  s.model.reseed_dropout(17);
  if (s.adapter) s.adapter->reseed_dropout(18);
}

// Logits, loss and the loss's gradient for every parameter.
Run run(const Setup& s, Kernels kernels) {
  GPT2& model = s.model;
  const std::vector<int32_t> ids = tokens(3, static_cast<int32_t>(model.config().vocab_size));
  model.set_kernels(kernels);
  Run r;
  reseed(s);
  {
    NoGradGuard no_grad;
    r.logits = model.logits(ids, kBatch, kSeq).to_vector();
  }
  for (auto [name, p] : s.params) p.zero_grad();
  reseed(s);
  Tensor loss = model.loss(ids, targets_with_ignored(ids), kBatch, kSeq);
  backward(loss);
  r.loss = loss.item();
  for (auto [name, p] : s.params) r.grads[name] = p.grad().to_vector();
  return r;
}

void check_paths_agree(const Setup& s) {
  Run fused = run(s, Kernels::Fused);
  Run ref = run(s, Kernels::Reference);
  double logits_diff = naive::rel_err(ref.logits, fused.logits);
  INFO("logits: relative difference " << logits_diff);
  CHECK(logits_diff < 1e-5);
  CHECK(ref.loss == Approx(fused.loss).epsilon(1e-6));
  for (auto& [name, grad] : fused.grads) {
    double diff = naive::rel_err(ref.grads[name], grad);
    INFO(name << ": relative difference " << diff);
    CHECK(diff < 1e-5);
  }
}

}  // namespace

TEST_CASE("the reference path equals the fused kernels in logits, loss and every gradient",
          "[reference]") {
  GPT2 model(test::micro_config(/*positions=*/80), 21);
  model.set_training(true);  // dropout on: the masks must line up too
  SECTION("base model") { check_paths_agree({model, nullptr, model.named_parameters()}); }
  SECTION("with a LoRA adapter and a trainable LM-head copy") {
    LoraConfig cfg;
    cfg.r = 2;
    cfg.dropout = 0.1f;
    auto adapter = LoraAdapter::create(model, cfg, 5);
    Rng rng(6);
    for (auto& [name, layer] : adapter->layers())  // B = 0 would leave A without gradient
      layer->B.copy_from(rand_normal(layer->B.shape(), 0.0f, 0.05f, rng));
    adapter->attach(model);
    Tensor head = model.wte->weight().clone().set_requires_grad(true);
    model.set_training_head(head);
    Named params = model.named_parameters();
    for (auto& named : adapter->named_parameters()) params.push_back(named);
    params.emplace_back("training_head", head);
    check_paths_agree({model, adapter.get(), params});
  }
}

TEST_CASE("perplexity is the same through the reference path", "[reference]") {
  GPT2 model(test::micro_config(/*positions=*/80), 22);
  std::vector<Example> examples;
  for (int64_t n : {9, 70, 33, 71, 2}) {  // padded batches; the first 3 targets are prompt
    std::vector<int32_t> ids = tokens(static_cast<uint64_t>(n), 40);
    examples.push_back({{ids.begin(), ids.begin() + n}, 3, {}});
  }
  Perplexity fused = evaluate_perplexity(model, examples, 2, 70);
  model.set_kernels(Kernels::Reference);
  Perplexity ref = evaluate_perplexity(model, examples, 2, 70);
  CHECK(ref.tokens == fused.tokens);
  CHECK(ref.mean_nll() == Approx(fused.mean_nll()).epsilon(1e-6));
}
