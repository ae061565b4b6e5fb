// The training loop: learning happens, only LoRA factors change, resume reaches the same result.
#include <catch2/catch.hpp>
#include <filesystem>

#include "experiments/app/training.h"
#include "gpt2/training/evaluate.h"
#include "tensor/gemm_library.h"
#include "tensor/parallel.h"
#include "tests/test_models.h"

using namespace ls;
namespace fs = std::filesystem;

namespace {

// Sequences of a tiny "language": counting modulo 40 in steps of `stride`.
std::vector<Example> counting_examples(int count, int stride, uint64_t seed) {
  Rng rng(seed);
  std::vector<Example> out;
  for (int i = 0; i < count; ++i) {
    int start = static_cast<int>(rng.below(40));
    Example ex;
    for (int t = 0; t < 12; ++t) ex.tokens.push_back((start + t * stride) % 40);
    out.push_back(ex);
  }
  return out;
}

TrainOptions quick_options(const std::string& dir) {
  TrainOptions o;
  o.lr = 1e-2f;
  o.epochs = 3;
  o.batch = 8;
  o.seq_len = 16;
  o.warmup = 2;
  o.seed = 3;
  o.progress = false;
  o.checkpoint_every = 4;
  o.checkpoint_path = dir + "/checkpoint.safetensors";
  return o;
}

struct LoraRun {
  std::unique_ptr<GPT2> model;
  std::shared_ptr<LoraAdapter> adapter;
};

LoraRun make_run() {
  LoraRun r;
  r.model = std::make_unique<GPT2>(test::micro_config(32, 48), 1);
  r.model->set_requires_grad(false);
  LoraConfig cfg;
  cfg.r = 4;
  cfg.alpha = 8;
  cfg.dropout = 0.1f;
  r.adapter = LoraAdapter::create(*r.model, cfg, 2);
  r.adapter->attach(*r.model);
  return r;
}

// A LoRA adapts a pretrained model (on a random one the frozen, tiny embeddings cap how far
// the logits can move): the micro model pretrained on counting by 1, its adapter attached.
LoraRun pretrained_run(const std::string& dir) {
  LoraRun run = make_run();
  run.model->set_requires_grad(true);
  Trainable full{run.model->named_parameters(), [&](uint64_t s) { run.model->reseed_dropout(s); }};
  TrainOptions pre = quick_options(dir);
  pre.checkpoint_path.clear();
  pre.epochs = 6;
  pre.weight_decay = 0.0f;
  train(*run.model, full, counting_examples(96, 1, 4), {}, pre);
  run.model->set_requires_grad(false);
  return run;
}

}  // namespace

TEST_CASE("LoRA training lowers the loss well below the start and leaves base weights identical",
          "[train]") {
  std::string dir = (fs::temp_directory_path() / "lorasum_test_learn").string();
  fs::create_directories(dir);
  // Pretrained on counting by 1, adapted to counting by 3.
  LoraRun run = pretrained_run(dir);
  auto data = counting_examples(96, 3, 5);
  double before = evaluate_perplexity(*run.model, data, 16, 16).mean_nll();
  std::vector<std::vector<float>> base;
  for (auto& [name, p] : run.model->named_parameters()) base.push_back(p.to_vector());
  Trainable t = lora_trainable(*run.model, *run.adapter);
  TrainOptions o = quick_options(dir);
  o.epochs = 8;
  TrainResult result = train(*run.model, t, data, {}, o);
  double after = evaluate_perplexity(*run.model, data, 16, 16).mean_nll();
  INFO("mean NLL before " << before << ", after " << after);
  CHECK(after < 0.25 * before);
  size_t i = 0;
  for (auto& [name, p] : run.model->named_parameters()) CHECK(p.to_vector() == base[i++]);
  CHECK(result.log.size() == static_cast<size_t>(result.steps));
  fs::remove_all(dir);
}

TEST_CASE("LoRA training in bf16 ends within 1 % of the f32 run's loss, on other bits",
          "[train][precision]") {
  std::string dir = (fs::temp_directory_path() / "lorasum_test_bf16").string();
  fs::create_directories(dir);
  auto data = counting_examples(96, 3, 5);
  // The same pretrained model and adapter start; only the adapter's training differs.
  auto adapted = [&](Precision precision) {
    LoraRun run = pretrained_run(dir);
    Trainable t = lora_trainable(*run.model, *run.adapter);
    TrainOptions o = quick_options(dir);
    o.checkpoint_path.clear();
    o.epochs = 8;
    o.precision = precision;
    train(*run.model, t, data, {}, o);
    std::vector<float> factors;
    for (auto& [name, p] : t.params) factors.push_back(p.to_vector()[0]);
    return std::pair(evaluate_perplexity(*run.model, data, 16, 16).mean_nll(), factors);
  };
  auto [nll_f32, factors_f32] = adapted(Precision::f32);
  auto [nll_bf16, factors_bf16] = adapted(Precision::bf16);
  INFO("mean NLL after f32 training " << nll_f32 << ", after bf16 " << nll_bf16);
  CHECK(factors_bf16 != factors_f32);
  CHECK(std::fabs(nll_bf16 - nll_f32) < 0.01 * nll_f32);  // 0.17 % when written
  fs::remove_all(dir);
}

TEST_CASE("resuming from a checkpoint reaches the same adapter as an uninterrupted run",
          "[train]") {
  std::string dir = (fs::temp_directory_path() / "lorasum_test_resume").string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto data = counting_examples(40, 2, 6);

  LoraRun full = make_run();
  Trainable tf = lora_trainable(*full.model, *full.adapter);
  TrainOptions o = quick_options(dir);
  o.checkpoint_path.clear();
  train(*full.model, tf, data, {}, o);

  // Interrupted: a kill during step 7 (the hook throws), after a checkpoint at step 4; then a
  // fresh model and adapter resume from that checkpoint.
  LoraRun first = make_run();
  Trainable t1 = lora_trainable(*first.model, *first.adapter);
  int micro = 0;
  t1.reseed_dropout = [&, inner = t1.reseed_dropout](uint64_t seed) {
    if (++micro > 6) throw std::runtime_error("simulated kill");
    inner(seed);
  };
  CHECK_THROWS_WITH(train(*first.model, t1, data, {}, quick_options(dir)), "simulated kill");
  REQUIRE(fs::exists(dir + "/checkpoint.safetensors"));

  LoraRun resumed = make_run();
  Trainable t2 = lora_trainable(*resumed.model, *resumed.adapter);
  TrainOptions again = quick_options(dir);
  again.resume = true;
  train(*resumed.model, t2, data, {}, again);
  auto a = full.adapter->named_parameters(), b = resumed.adapter->named_parameters();
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  fs::remove_all(dir);
}

TEST_CASE("AdamW matches values derived by hand from the update rule", "[train]") {
  // One parameter, gradient g each step; lr 0.1, wd 0.5, β = (0.9, 0.999), ε = 1e-8.
  Tensor p = Tensor::from({1}, {1.0f}).set_requires_grad(true);
  AdamW opt({p}, {0.9f, 0.999f, 1e-8f, 0.5f});
  auto set_grad = [&](float g) {
    p.zero_grad();
    backward(ag::scale(ag::sum_all(p), g));
  };
  // Step 1: p = 1·(1 − 0.05) = 0.95; m̂ = g, v̂ = g² → p −= 0.1·g/(|g|+ε) = 0.1.
  set_grad(2.0f);
  opt.step(0.1f);
  CHECK(p.item() == Approx(0.85).epsilon(1e-6));
  // Step 2 with g = −1: p = 0.85·0.95 = 0.8075; m = 0.9·0.2 + 0.1·(−1) = 0.08, m̂ = 0.08/0.19;
  // v = 0.999·0.004 + 0.001·1 = 0.004996, v̂ = 0.004996/0.001999; p −= 0.1·m̂/(√v̂ + ε).
  set_grad(-1.0f);
  opt.step(0.1f);
  double m_hat = 0.08 / 0.19, v_hat = 0.004996 / (1 - 0.999 * 0.999);
  CHECK(p.item() == Approx(0.8075 - 0.1 * m_hat / std::sqrt(v_hat)).epsilon(1e-5));
}

TEST_CASE("learning-rate schedule: linear warm-up then linear or cosine decay", "[train]") {
  LrSchedule s{1.0f, 4, 14, LrSchedule::Decay::Linear};
  CHECK(s.at(0) == Approx(0.25));
  CHECK(s.at(3) == Approx(1.0));
  CHECK(s.at(9) == Approx(0.5));
  CHECK(s.at(14) == Approx(0.0));
  s.decay = LrSchedule::Decay::Cosine;
  CHECK(s.at(9) == Approx(0.5));
  CHECK(s.at(4) == Approx(1.0));
}

TEST_CASE("global gradient-norm clipping scales all gradients together", "[train]") {
  Tensor a = Tensor::from({2}, {0, 0}).set_requires_grad(true);
  Tensor b = Tensor::from({1}, {0}).set_requires_grad(true);
  backward(ag::add(ag::sum_all(ag::mul(a, Tensor::from({2}, {3, 0}))),
                   ag::sum_all(ag::scale(b, 4))));  // grads (3, 0) and (4): norm 5
  float norm = clip_grad_norm({a, b}, 1.0f);
  CHECK(norm == Approx(5.0f));
  CHECK(a.grad().to_vector()[0] == Approx(0.6f).epsilon(1e-5));
  CHECK(b.grad().to_vector()[0] == Approx(0.8f).epsilon(1e-5));
}

TEST_CASE("epoch batches: every example once, by-length keeps padding small in a seeded order",
          "[train]") {
  Rng rng(5);
  std::vector<Example> examples(203);  // not a multiple of the batch
  for (Example& ex : examples) ex.tokens.assign(2 + rng.below(120), 1);
  auto padded = [&](const std::vector<std::vector<size_t>>& batches) {
    int64_t positions = 0;
    for (const auto& b : batches) {
      size_t longest = 0;
      for (size_t i : b) longest = std::max(longest, examples[i].tokens.size());
      positions += static_cast<int64_t>(longest * b.size());
    }
    return positions;
  };
  int64_t tokens = 0;
  for (const Example& ex : examples) tokens += static_cast<int64_t>(ex.tokens.size());
  for (BatchOrder order : {BatchOrder::random, BatchOrder::by_length}) {
    auto batches = epoch_batches(examples, 8, 11, order);
    CHECK(batches.size() == 26);  // ceil(203 / 8)
    std::vector<int> seen(examples.size(), 0);
    int64_t short_batches = 0;
    for (const auto& b : batches) {
      short_batches += b.size() != 8;
      for (size_t i : b) ++seen[i];
    }
    CHECK(short_batches == 1);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    CHECK(epoch_batches(examples, 8, 11, order) == batches);  // a pure function of the seed
    CHECK(epoch_batches(examples, 8, 12, order) != batches);
  }
  // random: consecutive slices of the seed's shuffle, as before --batching existed.
  auto shuffled = shuffled_indices(examples.size(), 11);
  auto random = epoch_batches(examples, 8, 11, BatchOrder::random);
  CHECK(std::vector<size_t>(shuffled.begin(), shuffled.begin() + 8) == random[0]);
  // Uniform lengths in [2, 121]: random batches pad to about 8/9 of the longest length, so
  // half the positions are padding; pools of 256 sorted by length leave a few per cent.
  double waste_random = 1.0 - static_cast<double>(tokens) / padded(random);
  double waste_sorted = 1.0 - static_cast<double>(tokens) /
                                  padded(epoch_batches(examples, 8, 11, BatchOrder::by_length));
  CHECK(waste_random > 0.35);
  CHECK(waste_sorted < 0.08);
}

TEST_CASE("training gives the same bits on one thread as on two", "[train]") {
  // Wide enough that every product is split into blocks (a micro model's are not).
  GPT2Config config = test::micro_config(64, 300);
  config.n_embd = 128;
  config.n_head = 4;
  std::vector<Example> data;
  Rng rng(8);
  for (int i = 0; i < 24; ++i) {
    Example ex;
    for (int64_t t = 0, n = 20 + rng.below(40); t < n; ++t)
      ex.tokens.push_back(static_cast<int32_t>(rng.below(300)));
    data.push_back(ex);
  }
  auto trained = [&](int threads, bool lora, Precision precision) {
    set_num_threads(threads);
    GPT2 model(config, 1);
    model.set_requires_grad(!lora);
    LoraConfig cfg;
    cfg.dropout = 0.1f;
    auto adapter = LoraAdapter::create(model, cfg, 2);
    if (lora) adapter->attach(model);
    Trainable t =
        lora ? lora_trainable(model, *adapter)
             : Trainable{model.named_parameters(), [&](uint64_t s) { model.reseed_dropout(s); }};
    TrainOptions o;
    o.batch = 8;
    o.seq_len = 64;
    o.progress = false;
    o.precision = precision;
    train(model, t, data, {}, o);
    std::vector<std::vector<float>> out;
    for (auto& [name, p] : t.params) out.push_back(p.to_vector());
    return out;
  };
  // On either library and in either precision (bf16 rounds copies of the operands first).
  for (GemmLibrary library : {GemmLibrary::openblas, GemmLibrary::onednn})
    for (Precision precision : {Precision::f32, Precision::bf16})
      for (bool lora : {true, false}) {
        INFO(gemm_library_name(library)
             << " " << precision_name(precision) << " " << (lora ? "LoRA" : "full"));
        GemmLibraryScope use(library);
        auto one = trained(1, lora, precision), two = trained(2, lora, precision);
        CHECK(one == two);
      }
  set_num_threads(0);
}
