// LoRA layers and PEFT adapters: merging, save/load, refusal (PyTorch parity: test_parity.cpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "autograd/gradcheck.h"
#include "gpt2/checkpoint.h"
#include "lora/lora.h"
#include "tensor/error.h"
#include "tests/fixtures.h"
#include "tests/test_models.h"

using namespace ls;
namespace fs = std::filesystem;

namespace {

std::vector<float> logits_of(GPT2& model, const std::vector<int32_t>& ids) {
  NoGradGuard no_grad;
  return model.logits(ids, 1, static_cast<int64_t>(ids.size())).to_vector();
}

// An adapter with non-zero B so that it changes the output.
std::shared_ptr<LoraAdapter> trained_looking_adapter(GPT2& model, uint64_t seed) {
  LoraConfig cfg;
  cfg.r = 2;
  cfg.alpha = 4;
  auto adapter = LoraAdapter::create(model, cfg, seed);
  Rng rng(seed);
  for (auto& [name, layer] : adapter->layers())
    layer->B.copy_from(rand_normal(layer->B.shape(), 0.0f, 0.05f, rng));
  return adapter;
}

std::string temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("lorasum_test_" + name);
  fs::remove_all(dir);
  return dir.string();
}

const std::vector<int32_t> kIds = {1, 5, 9, 2, 33, 7};

}  // namespace

TEST_CASE("target modules match by PEFT's suffix rule", "[lora]") {
  LoraConfig cfg;
  cfg.target_modules = {"c_proj"};
  CHECK(cfg.targets("h.0.attn.c_proj"));
  CHECK(cfg.targets("h.11.mlp.c_proj"));
  CHECK(cfg.targets("c_proj"));
  CHECK_FALSE(cfg.targets("h.0.attn.xc_proj"));
  CHECK_FALSE(cfg.targets("h.0.attn.c_attn"));
  GPT2 model(test::micro_config(16, 40, false), 1);
  auto adapter = LoraAdapter::create(model, cfg, 1);
  CHECK(adapter->layers().size() == 4);  // attn.c_proj and mlp.c_proj in each of 2 layers
}

TEST_CASE("a fresh adapter changes nothing, merging equals running unmerged, unmerge restores",
          "[lora]") {
  GPT2 model(test::micro_config(16, 40, false), 2);
  std::vector<float> base = logits_of(model, kIds);
  auto fresh = LoraAdapter::create(model, LoraConfig{}, 3);
  fresh->attach(model);
  CHECK(logits_of(model, kIds) == base);
  fresh->detach(model);

  auto adapter = trained_looking_adapter(model, 4);
  adapter->set_weight(0.7f);
  adapter->attach(model);
  std::vector<float> unmerged = logits_of(model, kIds);
  CHECK(test::max_abs_diff(unmerged, base) > 1e-3);  // the adapter does something
  adapter->detach(model);
  Tensor w = model.find_parameter("h.1.attn.c_attn.weight");
  std::vector<float> w_before = w.to_vector();
  adapter->merge_into(model);
  CHECK(test::max_abs_diff(logits_of(model, kIds), unmerged) < 1e-5);
  adapter->unmerge_from(model);
  CHECK(test::max_abs_diff(w.to_vector(), w_before) < 1e-6);
}

TEST_CASE("adapter save-load round trip is exact and unknown config keys are accepted", "[lora]") {
  GPT2 model(test::micro_config(16, 40, false), 5);
  auto adapter = trained_looking_adapter(model, 6);
  std::string dir = temp_dir("lora_roundtrip");
  adapter->save(dir);
  // Add keys a newer PEFT might write.
  auto cfg = nlohmann::json::parse(read_file(dir + "/adapter_config.json"));
  cfg["some_future_option"] = {{"x", 1}};
  cfg["megatron_config"] = nullptr;
  write_file_atomic(dir + "/adapter_config.json", cfg.dump());
  auto loaded = LoraAdapter::load(dir, model);
  REQUIRE(loaded->named_parameters().size() == adapter->named_parameters().size());
  for (size_t i = 0; i < adapter->named_parameters().size(); ++i) {
    CHECK(loaded->named_parameters()[i].first == adapter->named_parameters()[i].first);
    CHECK(loaded->named_parameters()[i].second.to_vector() ==
          adapter->named_parameters()[i].second.to_vector());
  }
  CHECK(loaded->config().scaling() == adapter->config().scaling());
  fs::remove_all(dir);
}

TEST_CASE("adapters that do not fit the model, or use unsupported features, are refused",
          "[lora]") {
  GPT2 model(test::micro_config(16, 40, false), 5);
  auto adapter = trained_looking_adapter(model, 6);
  std::string dir = temp_dir("lora_refuse");
  adapter->save(dir);
  GPT2Config wider = test::micro_config(16, 40, false);
  wider.n_embd = 64;
  GPT2 other(wider, 1);
  CHECK_THROWS_WITH(LoraAdapter::load(dir, other),
                    Catch::Contains("but this model's h.0.attn.c_attn maps 64 -> 192"));
  GPT2Config deeper = test::micro_config(16, 40, false);
  deeper.n_layer = 1;
  GPT2 shallow(deeper, 1);
  CHECK_THROWS_WITH(LoraAdapter::load(dir, shallow), Catch::Contains("h.1"));
  auto cfg = nlohmann::json::parse(read_file(dir + "/adapter_config.json"));
  for (auto [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"use_dora", true}, {"rank_pattern", {{"c_attn", 8}}}, {"r", 0}, {"peft_type", "IA3"}}) {
    auto bad = cfg;
    bad[key] = value;
    write_file_atomic(dir + "/adapter_config.json", bad.dump());
    CHECK_THROWS_AS(LoraAdapter::load(dir, model), InputError);
  }
  fs::remove_all(dir);
}

TEST_CASE("gradient check through a LoRA layer", "[lora][gradcheck]") {
  GPT2 model(test::micro_config(16, 40, false), 8);
  model.set_requires_grad(false);
  auto adapter = trained_looking_adapter(model, 9);
  adapter->attach(model);
  std::vector<int32_t> ids = {1, 2, 3, 4, 5, 6}, targets = {2, 3, 4, 5, 6, 7};
  auto& layer = adapter->layers().begin()->second;
  GradCheckResult r = gradcheck([&](const std::vector<Tensor>&) { return model.logits(ids, 1, 6); },
                                {layer->A, layer->B});
  INFO(r.report);
  CHECK(r.worst < 2e-2);
  // Frozen base weights received no gradient.
  for (auto& [name, p] : model.named_parameters()) CHECK_FALSE(p.grad().defined());
}
