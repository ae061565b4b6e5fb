// The presets of `lorasum reproduce` and the study's own hyperparameters.
#include <map>

#include "experiments/study/reproduce.h"
#include "tensor/error.h"

namespace ls {

const std::vector<std::string>& study_domains() {
  static const std::vector<std::string> domains = {"math", "medicine", "finance"};
  return domains;
}

namespace {

// The study's code: r = 4, α = 64 on c_attn and c_proj (attn.c_attn, attn.c_proj,
// mlp.c_proj by PEFT's suffix match).
LoraConfig study_lora() {
  LoraConfig c;
  c.r = 4;
  c.alpha = 64.0f;
  c.target_modules = {"c_attn", "c_proj"};
  return c;
}

Preset tiny() {
  Preset p;
  p.name = "tiny";
  p.model = GPT2Config::preset("tiny");  // 4 layers, 4 heads, 128 wide, 128 positions
  p.model.resid_pdrop = p.model.embd_pdrop = 0.0f;
  p.vocab_size = 2048;
  p.corpus_bytes = 2 << 20;
  p.pretrain.lr = 2e-3f;
  p.pretrain.batch = 16;
  p.pretrain.seq_len = 128;
  p.pretrain.warmup = 30;
  p.pretrain.max_steps = 400;
  p.pretrain.weight_decay = 0.0f;
  p.pretrain.decay = LrSchedule::Decay::Cosine;
  p.train_per_domain = 800;
  p.test_per_domain = 120;
  p.pretrain_per_domain = 500;
  p.lora = study_lora();
  p.lora.dropout = 0.1f;
  p.adapter.lr = 3e-4f;
  p.adapter.epochs = 1;
  p.adapter.batch = 8;
  p.adapter.seq_len = 128;
  p.adapter.warmup = 10;
  p.adapter.weight_decay = 0.01f;
  return p;
}

Preset smoke() {
  Preset p = tiny();
  p.name = "smoke";
  p.model = GPT2Config::preset("micro");  // 2 layers, 2 heads, 32 wide
  p.model.n_positions = 96;
  p.model.resid_pdrop = p.model.embd_pdrop = 0.0f;
  p.vocab_size = 320;
  p.corpus_bytes = 120 << 10;
  p.pretrain.max_steps = 20;
  p.pretrain.batch = 8;
  p.pretrain.seq_len = 64;
  p.pretrain.warmup = 2;
  p.train_per_domain = 48;
  p.test_per_domain = 16;
  p.pretrain_per_domain = 24;
  p.adapter.seq_len = 64;
  p.adapter.warmup = 1;
  return p;
}

// GPT-2 Small's width, heads and MLP on 3 layers: adapters of exactly the study's shapes
// (c_attn 768×2304, c_proj 768×768, mlp.c_proj 3072×768) on a model 2 cores can pretrain.
// Pretraining at B=8 T=256 ran at 1307 / 959 / 742 tokens/s with 2 / 3 / 4 layers here
// (Zen 5, 2 threads); 3 layers and 1400 steps (2.9 M tokens) take about 50 minutes.
Preset gpt2_shallow() {
  Preset p = tiny();
  p.name = "gpt2-shallow";
  p.model = GPT2Config::preset("gpt2");
  p.model.n_layer = 3;
  p.model.n_positions = 256;
  p.model.resid_pdrop = p.model.embd_pdrop = 0.0f;
  p.vocab_size = 8192;
  p.corpus_bytes = 12 << 20;  // one pass of the pretraining tokens, ~4 bytes each
  p.pretrain.lr = 6e-4f;
  p.pretrain.batch = 8;
  p.pretrain.seq_len = 256;
  p.pretrain.warmup = 100;
  p.pretrain.max_steps = 1400;
  p.eval_batch = 8;
  return p;
}

// The ladder's middle rung: gpt2-shallow at half its width (384, 6 heads of 64 as in GPT-2),
// with the same depth, vocabulary, positions and pretraining tokens, so that between the two
// only the width changes. About a third of gpt2-shallow's work per token.
Preset mid() {
  Preset p = gpt2_shallow();
  p.name = "mid";
  p.model.n_embd = 384;
  p.model.n_head = 6;
  return p;
}

Preset gpt2_small() {
  Preset p = tiny();
  p.name = "gpt2-small";
  p.model = GPT2Config::preset("gpt2");
  p.train_per_domain = 0;  // real data only
  p.pretrain_per_domain = 0;
  p.adapter.lr = 2e-4f;
  p.adapter.batch = 8;
  p.adapter.seq_len = 128;
  p.adapter.warmup = 20;
  p.eval_batch = 8;
  return p;
}

}  // namespace

Preset find_preset(const std::string& name) {
  if (name == "tiny") return tiny();
  if (name == "smoke") return smoke();
  if (name == "mid") return mid();
  if (name == "gpt2-shallow") return gpt2_shallow();
  if (name == "gpt2-small") return gpt2_small();
  input_error("unknown preset '{}' (expected tiny, smoke, mid, gpt2-shallow or gpt2-small)", name);
}

}  // namespace ls
