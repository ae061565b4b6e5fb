#include "gpt2/config.h"

#include <cfloat>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/json_brief.h"

namespace ls {

namespace {

constexpr int64_t kMaxDim = int64_t{1} << 20;  // far above any GPT-2, far below overflow
constexpr double kMaxParameters = 1e11;        // 65 times GPT-2 XL

int64_t read_dim(const nlohmann::json& j, const char* key, int64_t fallback,
                 const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_integer())
    input_error("{}: \"{}\" must be an integer, got {}", where, key, json_brief(j[key]));
  return j[key].get<int64_t>();
}

float read_float(const nlohmann::json& j, const char* key, float fallback,
                 const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  // Checked as a double: one beyond float's range has no float value.
  double value = j[key].is_number() ? j[key].get<double>() : NAN;
  if (!(std::abs(value) <= FLT_MAX))
    input_error("{}: \"{}\" must be a finite number, got {}", where, key, json_brief(j[key]));
  return static_cast<float>(value);
}

}  // namespace

void GPT2Config::validate(const std::string& where) const {
  auto check = [&](const char* name, int64_t value) {
    if (value <= 0 || value > kMaxDim)
      input_error("{}: {} = {} is not a usable dimension (expected 1..{})", where, name, value,
                  kMaxDim);
  };
  check("n_layer", n_layer);
  check("n_head", n_head);
  check("n_embd", n_embd);
  check("n_positions", n_positions);
  check("vocab_size", vocab_size);
  if (n_embd % n_head != 0)
    input_error("{}: n_embd = {} is not divisible by n_head = {}", where, n_embd, n_head);
  if (!(layer_norm_epsilon > 0.0f)) input_error("{}: layer_norm_epsilon must be > 0", where);
  for (float p : {resid_pdrop, embd_pdrop, attn_pdrop})
    if (!(p >= 0.0f && p < 1.0f)) input_error("{}: dropout probabilities must be in [0, 1)", where);
  if (parameter_count() > kMaxParameters)
    input_error("{}: these dimensions describe {:.3g} parameters, more than the {:.0e} allowed",
                where, parameter_count(), kMaxParameters);
}

double GPT2Config::block_parameter_count() const {
  double e = static_cast<double>(n_embd);
  // Per block: two layer norms (4e), c_attn (3e² + 3e), attn c_proj (e² + e), c_fc (4e² + 4e),
  // mlp c_proj (4e² + e).
  return static_cast<double>(n_layer) * (12 * e * e + 13 * e);
}

double GPT2Config::parameter_count() const {
  double e = static_cast<double>(n_embd);  // the LM head is tied to wte
  return static_cast<double>(vocab_size + n_positions) * e + block_parameter_count() + 2 * e;
}

GPT2Config GPT2Config::preset(const std::string& name) {
  GPT2Config c;
  auto set = [&](int64_t layers, int64_t heads, int64_t embd) {
    c.n_layer = layers;
    c.n_head = heads;
    c.n_embd = embd;
  };
  if (name == "gpt2")
    set(12, 12, 768);
  else if (name == "gpt2-medium")
    set(24, 16, 1024);
  else if (name == "gpt2-large")
    set(36, 20, 1280);
  else if (name == "gpt2-xl")
    set(48, 25, 1600);
  else if (name == "tiny") {
    set(4, 4, 128);
    c.n_positions = 128;
    c.vocab_size = 2048;
  } else if (name == "micro") {
    set(2, 2, 32);
    c.n_positions = 64;
    c.vocab_size = 512;
  } else {
    input_error(
        "unknown model preset '{}' (expected gpt2, gpt2-medium, gpt2-large, gpt2-xl, "
        "tiny or micro)",
        name);
  }
  c.bos_token_id = c.eos_token_id = c.vocab_size - 1;
  return c;
}

GPT2Config GPT2Config::load(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    input_error("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.is_object()) input_error("{}: expected a JSON object", path);
  if (j.contains("model_type") && j["model_type"] != "gpt2")
    input_error("{}: model_type is {}, expected \"gpt2\"", path, json_brief(j["model_type"]));
  if (j.contains("activation_function") && j["activation_function"] != "gelu_new")
    input_error("{}: activation_function {} is not supported (only gelu_new)", path,
                json_brief(j["activation_function"]));
  GPT2Config c;
  c.n_layer = read_dim(j, "n_layer", c.n_layer, path);
  c.n_head = read_dim(j, "n_head", c.n_head, path);
  c.n_embd = read_dim(j, "n_embd", c.n_embd, path);
  c.n_positions = read_dim(j, "n_positions", c.n_positions, path);
  c.vocab_size = read_dim(j, "vocab_size", c.vocab_size, path);
  c.bos_token_id = read_dim(j, "bos_token_id", c.vocab_size - 1, path);
  c.eos_token_id = read_dim(j, "eos_token_id", c.vocab_size - 1, path);
  c.layer_norm_epsilon = read_float(j, "layer_norm_epsilon", c.layer_norm_epsilon, path);
  c.resid_pdrop = read_float(j, "resid_pdrop", c.resid_pdrop, path);
  c.embd_pdrop = read_float(j, "embd_pdrop", c.embd_pdrop, path);
  c.attn_pdrop = read_float(j, "attn_pdrop", c.attn_pdrop, path);
  if (j.contains("n_inner") && !j["n_inner"].is_null() && j["n_inner"] != 4 * c.n_embd)
    input_error("{}: n_inner other than 4 * n_embd is not supported", path);
  c.validate(path);
  return c;
}

std::string GPT2Config::to_json() const {
  nlohmann::json j = {{"architectures", {"GPT2LMHeadModel"}},
                      {"model_type", "gpt2"},
                      {"activation_function", "gelu_new"},
                      {"n_layer", n_layer},
                      {"n_head", n_head},
                      {"n_embd", n_embd},
                      {"n_positions", n_positions},
                      {"n_ctx", n_positions},
                      {"n_inner", nullptr},
                      {"vocab_size", vocab_size},
                      {"layer_norm_epsilon", layer_norm_epsilon},
                      {"resid_pdrop", resid_pdrop},
                      {"embd_pdrop", embd_pdrop},
                      {"attn_pdrop", attn_pdrop},
                      {"bos_token_id", bos_token_id},
                      {"eos_token_id", eos_token_id},
                      {"initializer_range", 0.02},
                      {"tie_word_embeddings", true}};
  return j.dump(2) + "\n";
}

}  // namespace ls
