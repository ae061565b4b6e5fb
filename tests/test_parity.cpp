// lorasum against PyTorch on the committed fixtures (tests/fixtures/make_fixtures.py): a tiny
// GPT-2 read through the Hugging Face loader, PEFT adapters alone, summed and weighted; logits,
// the masked mean cross-entropy, and its gradients for LoRA factors and base weights, on the
// fused kernels and on the reference ops.
#include <catch2/catch.hpp>

#include "gpt2/checkpoint.h"
#include "tests/fixtures.h"
#include "tests/shared_fixtures.h"

using namespace ls;

namespace {

constexpr double kTolerance = 1e-4;  // relative to the tensor's largest entry; float32 sums
// Both implementations of attention and the LM-head loss must match PyTorch.
constexpr Kernels kKernels[] = {Kernels::Fused, Kernels::Reference};

// The gradient lorasum holds for PyTorch's name: "<adapter>.<module>.lora_<A|B>" or a base
// parameter's name.
Tensor grad_of(const std::string& name, GPT2& model, const test::ParityCase& c,
               const std::vector<std::shared_ptr<LoraAdapter>>& adapters) {
  size_t k = 0;
  for (auto& [dir, weight] : c.adapters) {
    if (name.starts_with(dir + ".")) {
      std::string module = name.substr(dir.size() + 1, name.size() - dir.size() - 8);
      auto& layer = adapters[k]->layers().at(module);
      return name.back() == 'A' ? layer->A.grad() : layer->B.grad();
    }
    ++k;
  }
  return model.find_parameter(name).grad();
}

// ../shared/fixtures: another tiny GPT-2 (unprefixed names) and adapters, made independently;
// its cases add adapter-a, then adapter-b, to the model.
void check_shared_fixtures() {
  auto model = load_gpt2(test::shared_path("fixtures/tiny-gpt2"));
  std::vector<std::shared_ptr<LoraAdapter>> attached;
  for (auto [name, adapter] :
       {std::pair{"base", ""}, {"with-a", "adapter-a"}, {"with-a-plus-b", "adapter-b"}}) {
    if (*adapter) {
      attached.push_back(LoraAdapter::load(test::shared_path("fixtures/") + adapter, *model));
      attached.back()->attach(*model);
    }
    test::SharedCase c = test::shared_case(name);
    NoGradGuard no_grad;
    auto seq = static_cast<int64_t>(c.ids.size());
    double error = test::relative_error(model->logits(c.ids, 1, seq).to_vector(), c.logits);
    INFO("../shared " << name << ": relative logit error " << error);
    CHECK(error < kTolerance);
    std::vector<int32_t> inputs(c.ids.begin(), c.ids.end() - 1);
    std::vector<int32_t> next(c.ids.begin() + 1, c.ids.end());
    Tensor loss = model->loss(inputs, next, 1, seq - 1);
    CHECK(loss.item() == Approx(c.mean_loss).epsilon(kTolerance / 10));
  }
}

}  // namespace

TEST_CASE("the tiny GPT-2's logits and loss match PyTorch, with no, one, two and weighted adapters",
          "[parity]") {
  test::ParityBatch batch = test::parity_batch();
  REQUIRE(batch.cases.size() == 5);
  for (Kernels kernels : kKernels)
    for (auto& [name, c] : batch.cases) {
      auto model = load_gpt2(test::fixture_path("model"));
      model->set_kernels(kernels);
      auto adapters = test::attach_adapters(c, *model);
      NoGradGuard no_grad;
      std::vector<float> logits = model->logits(batch.ids, batch.batch, batch.seq).to_vector();
      double error = test::relative_error(logits, test::expected("logits." + name));
      INFO(name << (kernels == Kernels::Reference ? " (reference ops)" : "")
                << ": relative logit error " << error);
      CHECK(error < kTolerance);
      Tensor loss = model->loss(batch.ids, batch.targets, batch.batch, batch.seq);
      CHECK(loss.item() == Approx(c.loss).epsilon(kTolerance / 10));
    }
  if (test::shared_exists("fixtures/cases.json")) check_shared_fixtures();
}

TEST_CASE("the gradients of the masked loss match PyTorch's, for LoRA factors and base weights",
          "[parity]") {
  test::ParityBatch batch = test::parity_batch();
  const test::ParityCase& c = batch.cases.at("train");
  REQUIRE(c.grads.size() == 7 + 2 * (8 + 8));  // base weights; A and B of 8 modules, 2 adapters
  for (Kernels kernels : kKernels) {
    auto model = load_gpt2(test::fixture_path("model"));
    model->set_kernels(kernels);
    auto adapters = test::attach_adapters(c, *model);
    Tensor loss = model->loss(batch.ids, batch.targets, batch.batch, batch.seq);
    CHECK(loss.item() == Approx(c.loss).epsilon(kTolerance / 10));
    backward(loss);
    for (const std::string& name : c.grads) {
      Tensor grad = grad_of(name, *model, c, adapters);
      REQUIRE(grad.defined());
      double error = test::relative_error(grad.to_vector(), test::expected("grad." + name));
      INFO(name << (kernels == Kernels::Reference ? " (reference ops)" : "")
                << ": relative gradient error " << error);
      CHECK(error < kTolerance);
    }
  }
}
