// Subcommands that run a model: info, generate, logits, eval.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "experiments/app/workspace.h"
#include "experiments/cli/checks.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/option_flags.h"
#include "experiments/cli/precision_flag.h"
#include "gpt2/generate.h"
#include "gpt2/training/evaluate.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls::cli {

namespace {

void add_adapter_option(CLI::App* cmd, std::vector<std::string>& adapters) {
  cmd->add_option("--adapter", adapters,
                  "PEFT adapter folder, optionally DIR@SCALE; repeat to add several (their "
                  "deltas add). A folder whose name has an @ is taken whole when it exists; "
                  "DIR@1 forces a folder, DIR/@SCALE a scale");
}

// Applied after the model is loaded: `on` selects gpt2/reference.h's plain ops.
void add_reference_ops_flag(CLI::App* cmd, bool& on) {
  cmd->add_flag("--reference-ops", on,
                "Run attention and the LM-head loss as plain autograd ops instead of the fused "
                "kernels (slower; the same results to float rounding)");
}

void use_kernels(GPT2& model, bool reference_ops) {
  model.set_kernels(reference_ops ? Kernels::Reference : Kernels::Fused);
}

}  // namespace

void add_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print a model's config and parameter counts");
  static std::string model_dir;
  cmd->add_option("--model", model_dir, "Model folder (config.json + model.safetensors)")
      ->required();
  cmd->callback([] {
    auto model = load_gpt2(model_dir);
    const GPT2Config& c = model->config();
    fmt::print("model: {}\nn_layer: {}\nn_head: {}\nn_embd: {}\nn_positions: {}\nvocab_size: {}\n",
               model_dir, c.n_layer, c.n_head, c.n_embd, c.n_positions, c.vocab_size);
    int64_t total = 0;
    for (auto& [name, p] : model->named_parameters()) total += p.numel();
    int64_t embeddings = model->wte->weight().numel() + model->wpe->weight().numel();
    // "in blocks" as `report` and results.json count it; the final layer norm is the rest.
    auto blocks = static_cast<int64_t>(c.block_parameter_count());
    fmt::print(
        "parameters: {} ({:.1f}M; {} in embeddings, {} in blocks, {} in the final layer "
        "norm)\n",
        total, total / 1e6, embeddings, blocks, total - embeddings - blocks);
  });
}

void add_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt (KV cache; greedy or sampled)");
  static std::string model_dir, prompt;
  static std::vector<std::string> adapters;
  static GenerateOptions o;
  static bool reference_ops = false;
  static Precision precision = Precision::f32;
  cmd->add_option("--model", model_dir, "Model folder with tokenizer files")->required();
  cmd->add_option("--prompt", prompt, "Text to continue")->required();
  cmd->add_option("--max-new-tokens", o.max_new_tokens, "Tokens to generate")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--temperature", o.temperature, "0 = greedy")
      ->capture_default_str()
      ->check(at_least(0));
  cmd->add_option("--top-k", o.top_k, "Sample from the k most likely (0 = all)")
      ->capture_default_str()
      ->check(at_least(0));
  // A mass of 0 would keep no token at all; greedy decoding is --temperature 0.
  cmd->add_option("--top-p", o.top_p, "Nucleus sampling mass (1 = off)")
      ->capture_default_str()
      ->check(in_range(0.0, 1.0, true));
  cmd->add_option("--seed", o.seed, "Sampling seed")->capture_default_str();
  add_adapter_option(cmd, adapters);
  add_reference_ops_flag(cmd, reference_ops);
  add_precision_flag(cmd, precision,
                     "Weights read per token in f32, or kept in bf16 (half the bytes; widened to "
                     "f32 as they are read, f32 sums and activations)");
  cmd->callback([] {
    Tokenizer tok = load_tokenizer(model_dir);
    Workspace ws = Workspace::open(model_dir, adapters);
    use_kernels(*ws.model, reference_ops);
    ws.model->keep_bf16_weights(precision == Precision::bf16);
    GenerateOptions opts = o;
    opts.stop_token = tok.eot_id();
    std::fputs(prompt.c_str(), stdout);
    std::vector<int32_t> ids = tok.encode(prompt);
    std::vector<int32_t> made = generate(*ws.model, ids, opts, [&](int32_t id) {
      if (id == tok.eot_id()) return;
      std::fputs(tok.decode({id}).c_str(), stdout);
      std::fflush(stdout);
    });
    std::fputs("\n", stdout);
    bool ended = !made.empty() && made.back() == tok.eot_id();
    if (!ended && std::ssize(made) < opts.max_new_tokens)
      fmt::print(stderr,
                 "note: stopped after {} of --max-new-tokens {}: with the prompt's {} tokens "
                 "they fill the model's {} positions (n_positions)\n",
                 made.size(), opts.max_new_tokens, ids.size(), ws.model->config().n_positions);
  });
}

void add_logits(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "logits", "Write the logits of a token sequence as raw little-endian float32 [T, vocab]");
  static std::string model_dir, ids_text, out;
  static std::vector<std::string> adapters;
  static bool reference_ops = false;
  cmd->add_option("--model", model_dir, "Model folder")->required();
  cmd->add_option("--ids", ids_text, "Comma-separated token ids, e.g. 15496,11,995")->required();
  cmd->add_option("--out", out, "Output file")->required()->check(kInExistingFolder);
  add_adapter_option(cmd, adapters);
  add_reference_ops_flag(cmd, reference_ops);
  cmd->callback([] {
    std::vector<int32_t> ids = parse_ids(ids_text);
    Workspace ws = Workspace::open(model_dir, adapters);
    use_kernels(*ws.model, reference_ops);
    NoGradGuard no_grad;
    Tensor logits = ws.model->logits(ids, 1, static_cast<int64_t>(ids.size()));
    write_file_atomic(out, std::string_view(reinterpret_cast<const char*>(logits.data()),
                                            logits.numel() * sizeof(float)));
  });
}

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Perplexity of a JSONL QA file or a plain-text file");
  static std::string model_dir, data;
  static std::vector<std::string> adapters;
  static int64_t batch = 8, seq_len = 128;
  static TextFormat format;
  static bool json = false, reference_ops = false;
  static Precision precision = Precision::f32;
  cmd->add_option("--model", model_dir, "Model folder with tokenizer files")->required();
  cmd->add_option("--data", data, "QA JSONL or plain-text file (see --format)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--batch", batch, "Sequences per forward pass")
      ->capture_default_str()
      ->check(at_least(1));
  cmd->add_option("--seq-len", seq_len, "Tokens per sequence (longer examples are truncated)")
      ->capture_default_str()
      ->check(in_range(2, 1 << 20));
  add_option_flags(cmd, text_format_options(), format);
  cmd->add_flag("--json", json, "Print one JSON object");
  add_adapter_option(cmd, adapters);
  add_reference_ops_flag(cmd, reference_ops);
  add_precision_flag(cmd, precision);
  cmd->callback([] {
    Tokenizer tok = load_tokenizer(model_dir);
    Workspace ws = Workspace::open(model_dir, adapters);
    use_kernels(*ws.model, reference_ops);
    auto examples =
        load_examples(data, tok, format, std::min(seq_len, ws.model->config().n_positions));
    PrecisionScope scope(precision);
    Perplexity p = evaluate_perplexity(*ws.model, examples, batch, seq_len);
    if (json)
      fmt::print("{}\n",
                 nlohmann::json{
                     {"perplexity", p.value()}, {"tokens", p.tokens}, {"mean_nll", p.mean_nll()}}
                     .dump());
    else
      fmt::print("perplexity: {:.4f}\ntokens: {}\n", p.value(), p.tokens);
  });
}

}  // namespace ls::cli
