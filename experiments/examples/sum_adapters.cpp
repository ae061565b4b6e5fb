// The study in miniature: two adapters trained apart on two "domains" of one small GPT-2,
// their weight deltas compared (the RMS cosine, next to what independent random factors give),
// and their plain sum attached at once, with no retraining, evaluated on both domains.
// Run it with no arguments: build/examples/sum_adapters (a few seconds).
#include <fmt/format.h>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/training/evaluate.h"
#include "gpt2/training/trainer.h"
#include "lora/lora.h"
#include "lora/similarity.h"

using namespace ls;

// Two toy domains with different rules: sums of numbers, and colours of things.
std::string domain_text(int domain) {
  static const char* things[] = {"sky", "grass", "snow", "coal", "blood", "sun"};
  static const char* colours[] = {"blue", "green", "white", "black", "red", "yellow"};
  std::string text;
  for (int i = 0; i < 120; ++i)
    text += domain == 0 ? fmt::format("{} and {} make {}.\n", i % 17, i % 11, i % 17 + i % 11)
                        : fmt::format("The {} is {}.\n", things[i % 6], colours[i % 6]);
  return text;
}

// An adapter on c_attn and c_proj (the study's targets), trained on one domain's text.
std::shared_ptr<LoraAdapter> train_adapter(GPT2& model, const std::vector<Example>& data,
                                           uint64_t seed) {
  LoraConfig lora;  // r = 4, α = 64, as the study
  auto adapter = LoraAdapter::create(model, lora, seed);
  adapter->attach(model);
  Trainable trainable{adapter->named_parameters(), [&](uint64_t s) { adapter->reseed_dropout(s); }};
  TrainOptions options;
  options.lr = 5e-3f;
  options.seq_len = 32;
  options.epochs = 20;
  options.max_steps = 150;
  options.seed = seed;
  options.progress = false;
  train(model, trainable, data, {}, options);
  adapter->detach(model);
  return adapter;
}

int main() {
  Tokenizer tokenizer = train_bpe(domain_text(0) + domain_text(1), 300);
  std::vector<Example> data[2];
  for (int d = 0; d < 2; ++d) data[d] = text_windows(tokenizer.encode(domain_text(d)), 32);

  GPT2Config config = GPT2Config::preset("micro");
  config.vocab_size = tokenizer.vocab_size();
  config.n_positions = 64;
  GPT2 model(config, 1);
  model.set_requires_grad(false);
  auto numbers = train_adapter(model, data[0], 10), colours = train_adapter(model, data[1], 20);

  // ⟨ΔW₁, ΔW₂⟩ from the factors alone; near-orthogonal deltas interfere little when added.
  SimilarityReport similarity = adapter_similarity(*numbers, *colours);
  Baseline random = random_baseline(AdapterFactors::of(*numbers), AdapterFactors::of(*colours));
  fmt::print("RMS cosine of the deltas: {:.4f} (independent random factors: {:.4f} ± {:.4f})\n",
             similarity.rms_cosine, random.rms_mean, random.rms_std);

  auto perplexities = [&](const char* label) {
    fmt::print("{:<22} numbers {:7.2f}   colours {:7.2f}\n", label,
               evaluate_perplexity(model, data[0], 8, 32).value(),
               evaluate_perplexity(model, data[1], 8, 32).value());
  };
  perplexities("base model");
  for (auto [adapter, label] :
       {std::pair{numbers, "numbers adapter"}, {colours, "colours adapter"}}) {
    adapter->attach(model);
    perplexities(label);
    adapter->detach(model);
  }
  numbers->attach(model);  // attached together, the deltas add: W + ΔW₁ + ΔW₂
  colours->attach(model);
  perplexities("sum of both");
  return 0;
}
