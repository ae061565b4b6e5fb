// GPT-2 save/load, cached decoding, generation, the summed NLL and a gradient check of the loss
// (PyTorch parity: test_parity.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "autograd/gradcheck.h"
#include "gpt2/checkpoint.h"
#include "gpt2/generate.h"
#include "tensor/error.h"
#include "tests/fixtures.h"
#include "tests/test_models.h"

using namespace ls;

TEST_CASE("save then load reproduces the model exactly", "[gpt2]") {
  GPT2 model(test::micro_config(), 7);
  std::string dir = std::filesystem::temp_directory_path() / "lorasum_test_gpt2_save";
  save_gpt2(model, dir);
  auto loaded = load_gpt2(dir);
  for (auto& [name, p] : model.named_parameters())
    REQUIRE(loaded->find_parameter(name).to_vector() == p.to_vector());
  std::filesystem::remove_all(dir);
}

TEST_CASE("KV-cached decoding equals the full forward pass", "[gpt2]") {
  GPT2 model(test::micro_config(), 3);
  std::vector<int32_t> ids = {1, 5, 9, 2, 33, 7, 11};
  NoGradGuard no_grad;
  Tensor full = model.logits(ids, 1, 7);  // (1, 7, V), fused
  for (Kernels kernels : {Kernels::Fused, Kernels::Reference}) {
    model.set_kernels(kernels);
    KVCache cache = model.new_cache(1);
    model.forward_cached({1, 5, 9}, 1, cache);
    for (int t = 3; t < 7; ++t) {
      Tensor step = model.forward_cached({ids[t]}, 1, cache);
      std::vector<float> expected = full.slice(1, t, t + 1).reshape({-1}).to_vector();
      CHECK(test::max_abs_diff(step.reshape({-1}).to_vector(), expected) < 1e-5);
    }
  }
}

TEST_CASE("greedy generation picks the argmax of the full forward pass", "[gpt2]") {
  GPT2 model(test::micro_config(), 5);
  std::vector<int32_t> seq = {3, 4};
  GenerateOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 5;
  std::vector<int32_t> out = generate(model, seq, o);
  REQUIRE(out.size() == 5);
  NoGradGuard no_grad;
  for (int32_t next : out) {
    Tensor logits = model.logits(seq, 1, static_cast<int64_t>(seq.size()));
    std::vector<float> last = logits.slice(1, seq.size() - 1, seq.size()).reshape({-1}).to_vector();
    int32_t argmax =
        static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    CHECK(next == argmax);
    seq.push_back(next);
  }
}

TEST_CASE("sampling respects top-k and is reproducible from the seed", "[gpt2]") {
  std::vector<float> logits = {0.0f, 5.0f, 4.0f, -1.0f, 3.0f};
  GenerateOptions o;
  o.top_k = 2;
  Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    int32_t t = sample_token(logits.data(), 5, o, rng);
    CHECK((t == 1 || t == 2));
  }
  o.top_k = 0;
  o.top_p = 0.5f;  // token 1 alone holds ~0.66 of the mass
  for (int i = 0; i < 50; ++i) CHECK(sample_token(logits.data(), 5, o, rng) == 1);
  GPT2 model(test::micro_config(), 9);
  GenerateOptions s;
  s.seed = 42;
  s.max_new_tokens = 6;
  CHECK(generate(model, {1, 2}, s) == generate(model, {1, 2}, s));
}

TEST_CASE("nll sums the log-softmax of the logits at the counted targets", "[gpt2][nll]") {
  GPT2 model(test::micro_config(), 13);
  model.set_training(false);
  std::vector<int32_t> ids = {1, 5, 9, 2, 33, 7, 11, 4};
  std::vector<int32_t> targets = {5, -100, 2, 33, 7, -100, 4, 39};
  std::vector<float> logits;  // (2·4, V), row-major
  {
    NoGradGuard no_grad;
    logits = model.logits(ids, 2, 4).to_vector();
  }
  // Naively, in double: -log softmax(logits)[target] = max + log Σ exp(l − max) − l[target].
  int64_t v = model.config().vocab_size;
  double expected = 0.0;
  int64_t counted = 0;
  for (size_t row = 0; row < targets.size(); ++row) {
    if (targets[row] == -100) continue;
    const float* l = &logits[row * v];
    double max = *std::max_element(l, l + v), sum = 0.0;
    for (int64_t j = 0; j < v; ++j) sum += std::exp(l[j] - max);
    expected += max + std::log(sum) - l[targets[row]];
    ++counted;
  }
  for (Kernels kernels : {Kernels::Fused, Kernels::Reference}) {
    model.set_kernels(kernels);
    ops::LmHeadLoss r = model.nll(ids, targets, 2, 4);
    CHECK(r.counted == counted);
    CHECK(r.total_nll == Approx(expected).epsilon(1e-5));
    CHECK(r.loss == Approx(expected / counted).epsilon(1e-5));
    CHECK(grad_enabled());  // its no-grad scope ends with it
  }
}

TEST_CASE("a training head replaces the tied head in loss only, until it is unset", "[gpt2][nll]") {
  GPT2 model(test::micro_config(), 14);
  model.set_training(false);
  NoGradGuard no_grad;
  std::vector<int32_t> ids = {3, 8, 1, 20, 6, 2}, targets = {8, 1, 20, -100, 2, 30};
  std::vector<float> hidden = model.hidden(ids, 2, 3).to_vector();  // (6, C)
  Tensor head = Tensor::zeros(model.wte->weight().shape());
  Rng rng(15);
  for (int64_t i = 0; i < head.numel(); ++i) head.data()[i] = rng.normal();
  // Naive mean cross-entropy of hidden · headᵀ, in double.
  int64_t v = model.config().vocab_size, c = model.config().n_embd;
  double expected = 0.0;
  for (size_t row = 0; row < targets.size(); ++row) {
    if (targets[row] == -100) continue;
    std::vector<double> l(v, 0.0);
    for (int64_t j = 0; j < v; ++j)
      for (int64_t k = 0; k < c; ++k) l[j] += double(hidden[row * c + k]) * head.data()[j * c + k];
    double max = *std::max_element(l.begin(), l.end()), sum = 0.0;
    for (double x : l) sum += std::exp(x - max);
    expected += (max + std::log(sum) - l[targets[row]]) / 5.0;  // 5 counted targets
  }
  float tied = model.nll(ids, targets, 2, 3).loss;
  model.set_training_head(head);
  CHECK(model.loss(ids, targets, 2, 3).item() == Approx(expected).epsilon(1e-5));
  CHECK(model.nll(ids, targets, 2, 3).loss == tied);  // evaluation keeps the tied head
  model.set_training_head(Tensor());
  CHECK(model.loss(ids, targets, 2, 3).item() == Approx(tied).epsilon(1e-6));
  CHECK_THROWS(model.set_training_head(Tensor::zeros({2, 2})));
}

TEST_CASE("gradient check of a tiny GPT-2's loss", "[gpt2][gradcheck]") {
  GPT2Config c = test::micro_config();
  c.resid_pdrop = c.embd_pdrop = c.attn_pdrop = 0.0f;
  GPT2 model(c, 11);
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8}, targets = {2, 3, 4, 5, 6, 7, 8, -100};
  std::vector<Tensor> sample;
  for (const char* name :
       {"wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight",
        "h.1.attn.c_proj.bias", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.weight", "ln_f.bias"})
    sample.push_back(model.find_parameter(name));
  // Through the logits: many outputs, so the probe loss carries a strong signal.
  GradCheckResult r =
      gradcheck([&](const std::vector<Tensor>&) { return model.logits(ids, 2, 4); }, sample);
  INFO("logits:\n" << r.report);
  CHECK(r.worst < 2e-2);
  // The fused LM-head loss gives the same gradients as cross-entropy on those checked logits.
  auto grads_of = [&](const std::function<Tensor()>& loss) {
    for (Tensor& p : sample) p.zero_grad();
    backward(loss());
    std::vector<std::vector<float>> g;
    for (Tensor& p : sample) g.push_back(p.grad().to_vector());
    return g;
  };
  auto fused = grads_of([&] { return model.loss(ids, targets, 2, 4); });
  auto unfused = grads_of([&] {
    return ag::cross_entropy(ag::reshape(model.logits(ids, 2, 4), {8, c.vocab_size}), targets);
  });
  for (size_t i = 0; i < sample.size(); ++i) CHECK(test::max_abs_diff(fused[i], unfused[i]) < 1e-6);
}

TEST_CASE("residual and embedding dropout apply in training, attention dropout nowhere",
          "[gpt2][dropout]") {
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6, 7, 8}, targets = {2, 3, 4, 5, 6, 7, 8, -100};
  auto training_loss = [&](float resid, float embd, float attn) {
    GPT2Config c = test::micro_config();
    c.resid_pdrop = resid;
    c.embd_pdrop = embd;
    c.attn_pdrop = attn;
    GPT2 model(c, 11);
    model.set_training(true);
    return model.loss(ids, targets, 2, 4).item();
  };
  float none = training_loss(0.0f, 0.0f, 0.0f);
  CHECK(training_loss(0.5f, 0.0f, 0.0f) != none);
  CHECK(training_loss(0.0f, 0.5f, 0.0f) != none);
  // GPT2Config::attn_pdrop is kept for config.json only: the loss is the same bits without it.
  CHECK(training_loss(0.0f, 0.0f, 0.5f) == none);
  CHECK(training_loss(0.0f, 0.0f, 0.9f) == none);
}

TEST_CASE("bad token ids and over-long sequences are input errors", "[gpt2]") {
  GPT2 model(test::micro_config(), 1);
  CHECK_THROWS_AS(model.logits({1, 40}, 1, 2), InputError);
  std::vector<int32_t> too_long(17, 1);
  CHECK_THROWS_AS(model.logits(too_long, 1, 17), InputError);
}
