// Train a LoRA adapter through the library API. Everything is made on the spot: a BPE
// tokenizer and a small GPT-2 (random weights, as if just pretrained), an adapter on its
// attention and MLP, a training loop of 150 AdamW steps on a toy task written out step by step,
// and the adapter saved in PEFT's layout and loaded back. Run it with no arguments:
// build/examples/train_lora (a few seconds).
#include <fmt/format.h>

#include <filesystem>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/training/data.h"
#include "gpt2/training/evaluate.h"
#include "lora/lora.h"
#include "nn/optim.h"

using namespace ls;

constexpr int64_t kSteps = 150;

// The training loop, written out: each step a batch, the forward pass and its loss, the
// backward pass, gradient clipping and an AdamW step. Only the factors are given to the
// optimizer; the frozen base weights get no gradient. train() is this loop plus
// checkpoints, evaluation, logging and data parallelism. Returns the last step's loss.
double train_loop(GPT2& model, const LoraAdapter& adapter, const std::vector<Example>& examples) {
  std::vector<Tensor> params = adapter.parameters();
  AdamW optimizer(params, {/*beta1=*/0.9f, /*beta2=*/0.999f, /*eps=*/1e-8f, /*decay=*/0.01f});
  LrSchedule schedule{/*base_lr=*/1e-2f, /*warmup=*/10, /*total=*/kSteps};
  auto batches = epoch_batches(examples, /*batch=*/8, /*seed=*/0, BatchOrder::random);
  double loss = 0.0;
  model.set_training(true);  // dropout on
  for (int64_t step = 0; step < kSteps; ++step) {
    auto k = static_cast<size_t>(step) % batches.size();
    if (step > 0 && k == 0)  // a new epoch, in a new order
      batches = epoch_batches(examples, 8, static_cast<uint64_t>(step), BatchOrder::random);
    Batch batch = make_batch(examples, batches[k], /*seq_len=*/32, /*pad_id=*/0);
    optimizer.zero_grad();
    Tensor mean_loss = model.loss(batch.ids, batch.targets, batch.batch, batch.seq);
    backward(mean_loss);
    clip_grad_norm(params, /*max_norm=*/1.0f);
    optimizer.step(schedule.at(step));
    loss = mean_loss.item();
  }
  model.set_training(false);
  return loss;
}

int main() {
  // A toy task with a rule to learn: the answer is the question's number doubled.
  std::string text;
  for (int i = 0; i < 200; ++i) text += fmt::format("Double {} is {}.\n", i, 2 * i);
  Tokenizer tokenizer = train_bpe(text, 400);
  std::vector<Example> examples = text_windows(tokenizer.encode(text), /*seq_len=*/32);

  // The base model: GPT-2's architecture at a small size. Its weights stay frozen.
  GPT2Config config = GPT2Config::preset("micro");  // 2 layers, 2 heads, 32 wide
  config.vocab_size = tokenizer.vocab_size();
  config.n_positions = 64;
  GPT2 model(config, /*seed=*/1);
  model.set_requires_grad(false);

  // The adapter: ΔW = (α/r)·B·A on every c_attn and c_fc; B starts at zero, so attaching it
  // changes nothing until it trains.
  LoraConfig lora;
  lora.r = 8;
  lora.alpha = 16.0f;
  lora.target_modules = {"c_attn", "c_fc"};
  auto adapter = LoraAdapter::create(model, lora, /*seed=*/2);
  adapter->attach(model);
  double before = evaluate_perplexity(model, examples, 8, 32).value();

  double loss = train_loop(model, *adapter, examples);
  double after = evaluate_perplexity(model, examples, 8, 32).value();
  int64_t trained = 0;
  for (const Tensor& p : adapter->parameters()) trained += p.numel();
  fmt::print("{} steps, last loss {:.3f}; {} trained parameters next to {:.0f} frozen ones\n",
             kSteps, loss, trained, config.parameter_count());
  fmt::print("perplexity on the training text: {:.2f} before, {:.2f} after\n", before, after);

  // PEFT's layout: adapter_config.json + adapter_model.safetensors, readable by Python's peft.
  std::string dir = (std::filesystem::temp_directory_path() / "lorasum_example_adapter").string();
  adapter->save(dir);
  adapter->detach(model);
  auto loaded = LoraAdapter::load(dir, model);
  loaded->attach(model);
  double reloaded = evaluate_perplexity(model, examples, 8, 32).value();
  fmt::print("saved to {}; loaded back: perplexity {:.2f}\n", dir, reloaded);
  std::filesystem::remove_all(dir);
  return after < before && reloaded == after ? 0 : 1;
}
