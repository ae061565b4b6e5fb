// Train a LoRA adapter through the library API. Everything is made on the spot: a BPE
// tokenizer and a small GPT-2 (random weights, as if just pretrained), an adapter on its
// attention and MLP, 150 AdamW steps on a toy task, and the adapter saved in PEFT's layout
// and loaded back. Run it with no arguments: build/examples/train_lora (a few seconds).
#include <fmt/format.h>

#include <filesystem>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/training/evaluate.h"
#include "gpt2/training/trainer.h"
#include "lora/lora.h"

using namespace ls;

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

  // Train the factors only: the Trainable names them and reseeds their dropout.
  Trainable trainable{adapter->named_parameters(),
                      [&](uint64_t seed) { adapter->reseed_dropout(seed); }};
  TrainOptions options;
  options.lr = 1e-2f;
  options.batch = 8;
  options.seq_len = 32;
  options.epochs = 100;
  options.max_steps = 150;
  options.warmup = 10;
  options.progress = false;
  TrainResult result = train(model, trainable, examples, {}, options);
  double after = evaluate_perplexity(model, examples, 8, 32).value();
  int64_t trained = 0;
  for (const Tensor& p : adapter->parameters()) trained += p.numel();
  fmt::print("{} steps; {} trained parameters next to {:.0f} frozen ones\n", result.steps, trained,
             config.parameter_count());
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
