// Composing adapters: the exact sum (against PyTorch and against running adapters together),
// SVD truncation (Eckart–Young), TIES and DARE by hand, the linear algebra underneath, refusals.
#include <catch2/catch.hpp>
#include <filesystem>

#include "gpt2/checkpoint.h"
#include "lora/compose.h"
#include "tensor/io/safetensors.h"
#include "tensor/linalg.h"
#include "tests/cli_runner.h"
#include "tests/fixtures.h"
#include "tests/naive.h"

using namespace ls;
namespace fs = std::filesystem;

namespace {

std::string scratch(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("lorasum_compose_" + name);
  fs::remove_all(dir);
  return dir.string();
}

// Logits of `batch` rows of ids, flattened.
std::vector<float> logits(GPT2& model, const std::vector<int32_t>& ids, int64_t batch = 1) {
  NoGradGuard no_grad;
  return model.logits(ids, batch, static_cast<int64_t>(ids.size()) / batch).to_vector();
}

GPT2Config small_config() {
  GPT2Config c = GPT2Config::preset("micro");
  c.vocab_size = 48;
  c.resid_pdrop = c.embd_pdrop = c.attn_pdrop = 0.0f;
  return c;
}

// Largest |a − b| relative to b's largest entry.
double relative_gap(const linalg::Matrix& a, const linalg::Matrix& b) {
  double gap = 0.0, scale = 0.0;
  for (size_t i = 0; i < a.v.size(); ++i) {
    gap = std::max(gap, std::abs(a.v[i] - b.v[i]));
    scale = std::max(scale, std::abs(b.v[i]));
  }
  return gap / scale;
}

linalg::Matrix reconstruct(const linalg::SVD& s) {
  linalg::Matrix us = s.U;
  for (int64_t i = 0; i < us.rows; ++i)
    for (int64_t j = 0; j < us.cols; ++j) us(i, j) *= s.S[j];
  return linalg::matmul(us, s.V.transposed());
}

linalg::Matrix random_matrix(int64_t rows, int64_t cols, Rng& rng) {
  return linalg::Matrix::from(rand_normal({rows, cols}, 0.0f, 1.0f, rng));
}

// ΔW of every module, exactly (double), summed over (factors, weight) pairs.
linalg::Matrix dense_sum(const std::vector<std::pair<LowRank, double>>& parts) {
  linalg::Matrix sum;
  for (auto& [f, w] : parts) {
    linalg::Matrix d = linalg::matmul(linalg::Matrix::from(f.B), linalg::Matrix::from(f.A));
    if (sum.v.empty()) sum = linalg::Matrix(d.rows, d.cols);
    for (size_t i = 0; i < d.v.size(); ++i) sum.v[i] += w * f.scale * d.v[i];
  }
  return sum;
}

const std::vector<int32_t> kIds = {3, 17, 9, 40, 2, 11, 30};

}  // namespace

TEST_CASE(
    "the weighted sum of the fixture adapters reproduces PyTorch's logits, as one adapter and "
    "merged into the base",
    "[compose]") {
  // The "train" case: adapter-a at weight 1 plus adapter-b (rsLoRA, another rank) at 0.5.
  test::ParityBatch batch = test::parity_batch();
  const test::ParityCase& c = batch.cases.at("train");
  std::vector<AdapterFactors> ab;
  MergeOptions options;
  std::string weights;
  for (auto& [dir, weight] : c.adapters) {
    ab.push_back(AdapterFactors::read(test::fixture_path(dir)));
    options.weights.push_back(weight);
    if (!weights.empty()) weights += ',';
    weights += std::to_string(weight);
  }
  std::vector<float> expected = test::expected("logits.train");

  std::string adapter_dir = scratch("sum_adapter");
  compose(ab, options).adapter.save(adapter_dir);
  LoraConfig saved = LoraConfig::load(adapter_dir + "/adapter_config.json");
  CHECK(saved.r == 4 + 2);
  CHECK(saved.scaling() == 1.0f);
  CHECK(saved.target_modules.size() == 8);
  auto model = load_gpt2(test::fixture_path("model"));
  LoraAdapter::load(adapter_dir, *model)->attach(*model);
  double as_adapter = test::relative_error(logits(*model, batch.ids, batch.batch), expected);
  INFO("as one adapter: " << as_adapter);
  CHECK(as_adapter < 1e-4);

  std::string model_dir = scratch("sum_model");
  test::CliResult r = test::run_lorasum(
      "merge --adapter " + test::quoted(test::fixture_path("adapter-a")) + " --adapter " +
      test::quoted(test::fixture_path("adapter-b")) + " --weights " + weights +
      " --into-base --model " + test::quoted(test::fixture_path("model")) + " --out " +
      test::quoted(model_dir));
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto merged = load_gpt2(model_dir);
  double into_base = test::relative_error(logits(*merged, batch.ids, batch.batch), expected);
  INFO("into the base: " << into_base);
  CHECK(into_base < 1e-4);
  fs::remove_all(adapter_dir);
  fs::remove_all(model_dir);
}

TEST_CASE("sum merges adapters of different ranks, alphas, rsLoRA, targets and weights exactly",
          "[compose]") {
  GPT2 model(small_config(), 7);
  struct Spec {
    int64_t r;
    float alpha;
    bool rslora;
    std::vector<std::string> targets;
    float w;
  };
  std::vector<Spec> specs = {{2, 4.0f, false, {"c_attn"}, 0.5f},
                             {3, 5.0f, true, {"c_proj"}, -1.0f},
                             {1, 2.0f, false, {"c_attn", "c_fc"}, 2.0f}};
  std::vector<AdapterFactors> factors;
  std::vector<std::shared_ptr<LoraAdapter>> adapters;
  Rng rng(11);
  for (const Spec& s : specs) {
    LoraConfig c;
    c.r = s.r, c.alpha = s.alpha, c.use_rslora = s.rslora, c.target_modules = s.targets;
    auto a = LoraAdapter::create(model, c, adapters.size() + 1);
    for (auto& [name, layer] : a->layers())
      layer->B.copy_from(rand_normal(layer->B.shape(), 0.0f, 0.05f, rng));
    factors.push_back(AdapterFactors::of(*a));
    a->set_weight(s.w);
    a->attach(model);
    adapters.push_back(a);
  }
  std::vector<float> together = logits(model, kIds);
  for (auto& a : adapters) a->detach(model);
  MergeOptions o;
  o.weights = {0.5f, -1.0f, 2.0f};

  std::string dir = scratch("mixed_sum");
  compose(factors, o).adapter.save(dir);
  auto merged = LoraAdapter::load(dir, model);
  CHECK(merged->config().r == 6);
  // h.0.mlp.c_fc only has the third adapter: its slot is rows 5.. of A, the rest zero.
  std::vector<float> a_fc = merged->layers().at("h.0.mlp.c_fc")->A.to_vector();
  int64_t in = model.config().n_embd;
  CHECK(std::all_of(a_fc.begin(), a_fc.begin() + 5 * in, [](float v) { return v == 0.0f; }));
  merged->attach(model);
  CHECK(test::max_abs_diff(logits(model, kIds), together) < 1e-5);
  merged->detach(model);

  compose_into(model, factors, o);
  CHECK(test::max_abs_diff(logits(model, kIds), together) < 1e-5);
  fs::remove_all(dir);
}

TEST_CASE("svd at full rank reproduces the sum, at rank K the error is the dropped singular values",
          "[compose]") {
  Rng rng(5);
  AdapterFactors a{"a",
                   {},
                   {{"h.0.attn.c_attn", LowRank::random(14, 9, 3, rng)},
                    {"h.1.mlp.c_fc", LowRank::random(6, 5, 3, rng)}}};
  AdapterFactors b{"b", {}, {{"h.0.attn.c_attn", LowRank::random(14, 9, 2, rng)}}};
  a.modules["h.0.attn.c_attn"].scale = 1.5f;
  b.modules["h.0.attn.c_attn"].scale = -0.7f;
  MergeOptions o;
  o.method = MergeMethod::svd;
  o.weights = {1.0f, 2.0f};
  linalg::Matrix exact =
      dense_sum({{a.modules["h.0.attn.c_attn"], 1.0}, {b.modules["h.0.attn.c_attn"], 2.0}});
  std::vector<double> sigma = linalg::svd(exact).S;

  o.rank = 5;
  Composition full = compose({a, b}, o);
  CHECK(relative_gap(dense_sum({{full.adapter.modules["h.0.attn.c_attn"], 1.0}}), exact) < 1e-5);
  CHECK(relative_gap(dense_sum({{full.adapter.modules["h.1.mlp.c_fc"], 1.0}}),
                     dense_sum({{a.modules["h.1.mlp.c_fc"], 1.0}})) < 1e-5);
  CHECK(full.kept_energy == Approx(full.energy).epsilon(1e-9));

  for (int64_t k : {1, 2, 4}) {
    o.rank = k;
    Composition c = compose({a, b}, o);
    const LowRank& f = c.adapter.modules["h.0.attn.c_attn"];
    CHECK(f.rank() == k);
    linalg::Matrix approx = dense_sum({{f, 1.0}});
    double error2 = 0.0, dropped2 = 0.0;
    for (size_t i = 0; i < exact.v.size(); ++i) error2 += std::pow(exact.v[i] - approx.v[i], 2);
    for (size_t i = k; i < sigma.size(); ++i) dropped2 += sigma[i] * sigma[i];
    INFO("rank " << k);
    CHECK(error2 == Approx(dropped2).epsilon(1e-4));
  }
}

TEST_CASE("QR, SVD, SVD of a product and randomized SVD", "[compose]") {
  Rng rng(3);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{13, 7}, {7, 13}, {9, 9}}) {
    linalg::Matrix a = random_matrix(rows, cols, rng);
    linalg::QR qr = linalg::qr(a);
    CHECK(relative_gap(linalg::matmul(qr.Q, qr.R), a) < 1e-12);
    linalg::Matrix qtq = linalg::matmul(qr.Q.transposed(), qr.Q);
    for (int64_t i = 0; i < qtq.rows; ++i)
      for (int64_t j = 0; j < qtq.cols; ++j)
        CHECK(qtq(i, j) == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
    for (int64_t i = 0; i < qr.R.rows; ++i)
      for (int64_t j = 0; j < std::min(i, qr.R.cols); ++j) CHECK(qr.R(i, j) == 0.0);
    linalg::SVD s = linalg::svd(a);
    CHECK(relative_gap(reconstruct(s), a) < 1e-12);
    CHECK(std::is_sorted(s.S.rbegin(), s.S.rend()));
  }
  linalg::Matrix b = random_matrix(20, 3, rng), a = random_matrix(3, 15, rng);
  linalg::SVD product = linalg::svd_of_product(b, a), dense = linalg::svd(linalg::matmul(b, a));
  for (size_t i = 0; i < product.S.size(); ++i)
    CHECK(product.S[i] == Approx(dense.S[i]).epsilon(1e-10));
  CHECK(relative_gap(reconstruct(product), linalg::matmul(b, a)) < 1e-12);

  linalg::Matrix low = linalg::matmul(random_matrix(60, 5, rng), random_matrix(5, 40, rng));
  linalg::SVD r5 = linalg::randomized_svd(low.to_tensor(), 5, 1);
  CHECK(relative_gap(reconstruct(r5), low) < 1e-5);
  linalg::Matrix full = random_matrix(60, 40, rng);  // k + 10 covers all 40 columns: exact
  linalg::SVD r30 = linalg::randomized_svd(full.to_tensor(), 30, 2), exact = linalg::svd(full);
  for (size_t i = 0; i < 30; ++i) CHECK(r30.S[i] == Approx(exact.S[i]).epsilon(1e-4));
}

TEST_CASE("TIES on hand-worked deltas", "[compose]") {
  std::vector<Tensor> deltas = {Tensor::from({4}, {1.0f, -2.0f, 0.1f, 3.0f}),
                                Tensor::from({4}, {-3.0f, 1.0f, -0.2f, 2.0f}),
                                Tensor::from({4}, {0.5f, 1.5f, 4.0f, -0.3f})};
  // density 0.5 trims to {_, −2, _, 3}, {−3, _, _, 2}, {_, 1.5, 4, _}; their sums −3, −0.5, 4, 5
  // elect −, −, +, +; the agreeing entries average to −3, −2, 4, (3 + 2)/2.
  CHECK(ties_merge(deltas, 0.5f).to_vector() == std::vector<float>{-3.0f, -2.0f, 4.0f, 2.5f});
  // density 1 keeps all: sums −1.5, 0.5, 3.9, 4.7 elect −, +, +, +.
  std::vector<float> all = ties_merge(deltas, 1.0f).to_vector();
  CHECK(all[0] == -3.0f);
  CHECK(all[1] == 1.25f);
  CHECK(all[2] == Approx(2.05f));
  CHECK(all[3] == 2.5f);
  // Trimming keeps exactly round(density·n) entries, the first ones among equal magnitudes.
  CHECK(ties_merge({Tensor::from({4}, {2.0f, -2.0f, 2.0f, 1.0f})}, 0.5f).to_vector() ==
        std::vector<float>{2.0f, -2.0f, 0.0f, 0.0f});
  // Equal magnitudes of opposite sign cancel in the election: nothing is kept.
  CHECK(ties_merge({Tensor::from({1}, {2.0f}), Tensor::from({1}, {-2.0f})}, 1.0f).item() == 0.0f);
}

TEST_CASE("DARE drops entries with probability 1 - density and rescales the survivors",
          "[compose]") {
  std::vector<Tensor> deltas = {Tensor::from({3}, {1.0f, -2.0f, 0.5f}),
                                Tensor::from({3}, {0.25f, 1.0f, 1.0f})};
  Rng keep_all(1);
  CHECK(dare_merge(deltas, 1.0f, keep_all).to_vector() == std::vector<float>{1.25f, -1.0f, 1.5f});

  Tensor ones = Tensor::ones({20000});
  Rng rng(9), same(9), other(10);
  std::vector<float> v = dare_merge({ones}, 0.25f, rng).to_vector();
  CHECK(std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f || x == 4.0f; }));
  double kept = std::count(v.begin(), v.end(), 4.0f) / 20000.0;
  CHECK(kept == Approx(0.25).margin(0.015));  // ±5 standard deviations
  CHECK(dare_merge({ones}, 0.25f, same).to_vector() == v);
  CHECK(dare_merge({ones}, 0.25f, other).to_vector() != v);

  // Through compose: density 1 keeps everything, and the rank-Σr SVD gives the sum back.
  Rng f(4);
  AdapterFactors a{"a", {}, {{"m", LowRank::random(30, 20, 2, f)}}};
  AdapterFactors b{"b", {}, {{"m", LowRank::random(30, 20, 3, f)}}};
  MergeOptions o;
  o.method = MergeMethod::dare;
  Composition c = compose({a, b}, o);
  CHECK(c.adapter.modules["m"].rank() == 5);
  CHECK(relative_gap(dense_sum({{c.adapter.modules["m"], 1.0}}),
                     dense_sum({{a.modules["m"], 1.0}, {b.modules["m"], 1.0}})) < 1e-5);
}

TEST_CASE("compositions that cannot work are refused with a clear message", "[compose]") {
  Rng rng(2);
  AdapterFactors a{"a", {}, {{"h.0.attn.c_attn", LowRank::random(96, 32, 2, rng)}}};
  AdapterFactors wide{"wide", {}, {{"h.0.attn.c_attn", LowRank::random(96, 64, 2, rng)}}};
  CHECK_THROWS_WITH(compose({a, wide}, {}), Catch::Contains("disagree on module h.0.attn.c_attn"));
  MergeOptions o;
  o.weights = {1.0f};
  CHECK_THROWS_WITH(compose({a, a}, o), Catch::Contains("1 weights given for 2 adapters"));
  o = {};
  o.method = MergeMethod::svd;
  o.rank = 5;
  CHECK_THROWS_WITH(compose({a, a}, o), Catch::Contains("exceeds the rank of the sum"));
  o.method = MergeMethod::ties;
  o.density = 0.0f;
  CHECK_THROWS_WITH(compose({a, a}, o), Catch::Contains("density"));
  GPT2 model(small_config(), 1);
  AdapterFactors stranger{"s", {}, {{"h.7.attn.c_attn", LowRank::random(96, 32, 2, rng)}}};
  CHECK_THROWS_WITH(compose_into(model, {stranger}, {}), Catch::Contains("h.7.attn.c_attn"));
  CHECK_THROWS_WITH(compose_into(model, {wide}, {}), Catch::Contains("in the model"));

  const std::pair<const char*, const char*> refused[] = {
      {"--method sum --rank 2", "--rank"},
      {"--method svd", "--rank K"},
      {"--method svd --rank 2 --density 0.5", "--density"},
      {"--method ties --seed 3", "--seed"},
      {"--into-base", "--model"},
      {"--model /x", "--into-base"}};
  for (auto [flags, message] : refused) {
    test::CliResult r =
        test::run_lorasum(std::string("merge --adapter /nonexistent --out /tmp/never ") + flags);
    INFO(flags << ": " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(message));
  }
  test::CliResult help = test::run_lorasum("merge --help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("TIES-Merging") && Catch::Contains("DARE"));
}

TEST_CASE("adapter factors are read without a model, saved with scales folded, and checked",
          "[compose]") {
  Rng rng(6);
  AdapterFactors f{"f",
                   {},
                   {{"h.0.attn.c_attn", LowRank::random(12, 4, 3, rng)},
                    {"h.1.mlp.c_proj", LowRank::random(4, 16, 1, rng)}}};
  f.modules["h.0.attn.c_attn"].scale = -2.5f;
  std::string dir = scratch("factors");
  f.save(dir);
  AdapterFactors back = AdapterFactors::read(dir);
  CHECK(back.config.r == 3);
  CHECK(back.config.scaling() == 1.0f);
  for (auto& [module, low] : f.modules) {
    INFO(module);
    CHECK(back.modules.at(module).rank() == 3);  // rank 1 zero-padded to the adapter's r
    CHECK(relative_gap(dense_sum({{back.modules.at(module), 1.0}}), dense_sum({{low, 1.0}})) <
          1e-6);
  }

  LowRank& c = f.modules["h.0.attn.c_attn"];
  auto write = [&](const std::vector<SafetensorView>& views) {
    write_safetensors(dir + "/adapter_model.safetensors", views);
  };
  write({{LoraAdapter::peft_name("h.0.attn.c_attn", 'A'), c.A.shape(), c.A.data()}});
  CHECK_THROWS_WITH(AdapterFactors::read(dir), Catch::Contains("has no lora_B tensor"));
  write({{"h.0.attn.c_attn.weight", c.A.shape(), c.A.data()}});
  CHECK_THROWS_WITH(AdapterFactors::read(dir), Catch::Contains("not a LoRA factor"));
  LowRank& p = f.modules["h.1.mlp.c_proj"];  // rank 1 where the config says r = 3
  write({{LoraAdapter::peft_name("h.1.mlp.c_proj", 'A'), p.A.shape(), p.A.data()}});
  CHECK_THROWS_WITH(AdapterFactors::read(dir), Catch::Contains("r = 3"));
  fs::remove_all(dir);
}
