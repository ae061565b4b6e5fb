// Bad input through the lorasum program: every malformed file or value is refused with one
// clear message naming the file and what is wrong, exit status 2, no crash, no huge
// allocation, and no output file left behind.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "lora/lora.h"
#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"
#include "tests/cli_expect.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
namespace fs = std::filesystem;
using test::expect_refused;

namespace {

std::string q(const std::string& s) { return test::quoted(s); }

// The same for a flag value CLI11 refuses: it names the flag and points to --help.
void expect_flag_refused(const std::string& args, const std::string& flag,
                         const std::string& output = "") {
  test::CliResult r = test::run_lorasum(args);
  INFO("lorasum " << args << "\nstderr: " << r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, StartsWith(flag + ":") && Contains("--help"));
  if (!output.empty()) CHECK_FALSE(fs::exists(output));
}

std::string le64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// `logits` on a model folder, writing to `out`: loads config, weights and any adapters.
std::string logits_args(const std::string& model, const std::string& out,
                        const std::string& extra = "") {
  return "logits --model " + q(model) + " --ids 1,2 --out " + q(out) + extra;
}

// A file's bad contents and the fragments the error message must hold.
struct BadFile {
  const char* what;
  std::string bytes;
  std::vector<std::string> fragments;
};

// Each case replaces `file` in a fresh copy of the model folder; `logits` must refuse it with
// the case's fragments and the path of the copy followed by `named` ("" names the folder).
void expect_model_files_refused(test::TinySetup& s, const std::string& file,
                                const std::vector<BadFile>& cases, const std::string& named) {
  std::string out = s.path("logits.f32");
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].what);
    std::string dir = s.copy_model("case" + std::to_string(i));
    s.write("case" + std::to_string(i) + "/" + file, cases[i].bytes);
    std::vector<std::string> fragments = cases[i].fragments;
    fragments.push_back(dir + named);
    expect_refused(logits_args(dir, out), fragments, out);
  }
}

struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Rewrites a safetensors file of float tensors through `edit`, which may rename, drop or
// change them.
void edit_tensors(const std::string& path,
                  const std::function<void(std::vector<NamedTensor>&)>& edit) {
  std::vector<NamedTensor> tensors;
  {
    SafetensorsFile file = SafetensorsFile::open(path);
    for (const SafetensorInfo& t : file.tensors())
      tensors.push_back({t.name, t.shape, file.read_f32(t.name)});
  }
  edit(tensors);
  std::vector<SafetensorView> views;
  for (const NamedTensor& t : tensors) views.push_back({t.name, t.shape, t.values.data()});
  write_safetensors(path, views);
}

void edit_json(const std::string& path, const std::function<void(json&)>& edit) {
  json j = json::parse(read_file(path));
  edit(j);
  write_file_atomic(path, j.dump());
}

}  // namespace

TEST_CASE("model weights that are malformed or lie are refused naming the file and tensor",
          "[bad-input]") {
  test::TinySetup s("bad_weights");
  std::string out = s.path("logits.f32");
  const std::string good = read_file(s.model() + "/model.safetensors");
  const std::string f32x2 = R"("dtype":"F32","shape":[2])";
  const std::vector<BadFile> cases = {
      {"zero-length", "", {"too short"}},
      {"truncated", good.substr(0, good.size() / 2), {"run past the", "data buffer"}},
      {"header length past the end", le64(1 << 20) + "{}", {"runs past the end"}},
      {"absurd header length", le64(~0ull) + "{}", {"exceeds"}},
      {"header not JSON", safetensors_bytes("{\"wte.weight\":", 0), {"not valid JSON"}},
      {"header not an object", safetensors_bytes("[1, 2]", 0), {"must be a JSON object"}},
      {"number beyond double (found by fuzzing)",
       safetensors_bytes(R"({"__metadata__":{"k":1e400}})", 0),
       {"not valid JSON"}},
      {"offsets outside the data",
       safetensors_bytes("{\"wte.weight\":{" + f32x2 + ",\"data_offsets\":[0,8]}}", 4),
       {"wte.weight", "4-byte data buffer"}},
      {"overlapping tensors",
       safetensors_bytes("{\"a\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"b\":{" + f32x2 +
                             ",\"data_offsets\":[4,12]}}",
                         12),
       {"'a'", "'b'", "overlap"}},
      {"shape times dtype is not the byte count",
       safetensors_bytes(R"({"wte.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       {"wte.weight", "needs 12 bytes"}},
      {"absurd shape",
       safetensors_bytes(
           R"({"wte.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
           8),
       {"wte.weight", "too large"}},
      {"duplicate names",
       safetensors_bytes("{\"wte.weight\":{" + f32x2 + ",\"data_offsets\":[0,8]},\"wte.weight\":{" +
                             f32x2 + ",\"data_offsets\":[0,8]}}",
                         8),
       {"wte.weight", "twice"}},
  };
  expect_model_files_refused(s, "model.safetensors", cases, "/model.safetensors");

  SECTION("NaN in the weights") {
    std::string dir = s.copy_model("nan");
    edit_tensors(dir + "/model.safetensors", [](std::vector<NamedTensor>& tensors) {
      for (NamedTensor& t : tensors)
        if (t.name == "h.1.mlp.c_fc.weight") t.values[7] = NAN;
    });
    expect_refused(logits_args(dir, out), {"h.1.mlp.c_fc.weight", "non-finite", "element 7"}, out);
  }
  SECTION("weights of another shape than config.json says") {
    std::string dir = s.copy_model("shape");
    edit_json(dir + "/config.json", [](json& c) { c["n_positions"] = 32; });
    expect_refused(logits_args(dir, out), {"wpe.weight", "[64, 32]", "[32, 32]"}, out);
  }
}

TEST_CASE("config.json with missing, wrong or absurd dimensions is refused", "[bad-input]") {
  test::TinySetup s("bad_config");
  const std::string good = read_file(s.model() + "/config.json");
  auto with = [&](std::function<void(json&)> edit) {
    json j = json::parse(good);
    edit(j);
    return j.dump();
  };
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<BadFile> cases = {
      {"zero-length", "", {"not valid JSON"}},
      {"truncated", good.substr(0, good.size() / 2), {"not valid JSON"}},
      {"not an object", "[2, 2, 32]", {"expected a JSON object"}},
      {"zero n_embd", with([](json& j) { j["n_embd"] = 0; }), {"n_embd = 0"}},
      {"negative n_head", with([](json& j) { j["n_head"] = -2; }), {"n_head = -2"}},
      {"absurd n_layer",
       with([](json& j) { j["n_layer"] = 4294967296; }),
       {"n_layer = 4294967296"}},
      {"n_embd not divisible by n_head",
       with([](json& j) { j["n_embd"] = 33; }),
       {"n_embd = 33 is not divisible by n_head = 2"}},
      {"dimension not an integer",
       with([](json& j) { j["n_layer"] = 2.5; }),
       {"\"n_layer\" must be an integer"}},
      {"dimension a string",
       with([](json& j) { j["n_embd"] = "32"; }),
       {"\"n_embd\" must be an integer"}},
      {"dimension nested deeply", "{\"n_layer\": " + deep + "}", {"a JSON array"}},
      {"epsilon beyond float",
       with([](json& j) { j["layer_norm_epsilon"] = 1e300; }),
       {"layer_norm_epsilon", "finite"}},
      {"dimensions past every limit",
       with([](json& j) {
         j["n_layer"] = 1000000;
         j["n_embd"] = 1 << 20;
         j["n_head"] = 16;
       }),
       {"parameters, more than"}},
      // A GPT-2 XL config next to micro weights: refused before 6 GB are allocated.
      {"a much larger model than the weights",
       with([](json& j) {
         j["n_layer"] = 48;
         j["n_head"] = 25;
         j["n_embd"] = 1600;
         j["vocab_size"] = 50257;
         j["n_positions"] = 1024;
       }),
       {"model.safetensors", "too few for the 1557611200 parameters"}},
      {"n_layer missing (GPT-2's 12 is assumed)",
       with([](json& j) { j.erase("n_layer"); }),
       {"model.safetensors", "too few"}},
  };
  expect_model_files_refused(s, "config.json", cases, "");
}

TEST_CASE("adapters that are malformed or do not fit the model are refused", "[bad-input]") {
  test::TinySetup s("bad_adapter");
  std::string out = s.path("logits.f32");
  LoraConfig lora;
  lora.r = 2;
  GPT2 micro(GPT2Config::preset("micro"));
  auto make_adapter = [&](const std::string& name, GPT2& model) {
    std::string dir = s.path(name);
    LoraAdapter::create(model, lora, 3)->save(dir);
    return dir;
  };
  auto refused = [&](const std::string& dir, std::vector<std::string> fragments) {
    fragments.push_back(dir);
    expect_refused(logits_args(s.model(), out, " --adapter " + q(dir)), fragments, out);
  };
  const std::string a0 = "base_model.model.transformer.h.0.attn.c_attn.lora_";

  SECTION("an adapter for another model size") {
    GPT2Config wider = GPT2Config::preset("micro");
    wider.n_embd = 64;
    GPT2 other(wider);
    refused(make_adapter("wider", other), {"module h.0.attn.c_attn", "lora_A [2, 64]",
                                           "this model's h.0.attn.c_attn maps 32 -> 96"});
  }
  SECTION("rank 0, or a rank its tensors do not have") {
    std::string dir = make_adapter("rank0", micro);
    edit_json(dir + "/adapter_config.json", [](json& c) { c["r"] = 0; });
    refused(dir, {"rank r = 0"});
    edit_json(dir + "/adapter_config.json", [](json& c) { c["r"] = 3; });
    refused(dir, {"r = 3", "expected [3, 32]"});
    edit_json(dir + "/adapter_config.json", [](json& c) { c["r"] = 2.5; });
    refused(dir, {"\"r\"", "2.5"});
    std::string config = read_file(dir + "/adapter_config.json");
    size_t r = config.find("\"r\":2.5");
    REQUIRE(r != std::string::npos);
    config.replace(r, 7, "\"r\":" + std::string(100000, '[') + std::string(100000, ']'));
    s.write("rank0/adapter_config.json", config);
    refused(dir, {"\"r\"", "a JSON array"});
  }
  SECTION("a module missing its A or its B") {
    for (char factor : {'A', 'B'}) {
      std::string dir = make_adapter(std::string("missing") + factor, micro);
      edit_tensors(dir + "/adapter_model.safetensors", [&](std::vector<NamedTensor>& tensors) {
        std::erase_if(tensors,
                      [&](const NamedTensor& t) { return t.name == a0 + factor + ".weight"; });
      });
      refused(dir, {"h.0.attn.c_attn", std::string("no lora_") + factor + " tensor"});
    }
  }
  SECTION("a module the model does not have") {
    std::string dir = make_adapter("h7", micro);
    edit_tensors(dir + "/adapter_model.safetensors", [&](std::vector<NamedTensor>& tensors) {
      for (NamedTensor& t : tensors)
        if (t.name.starts_with(a0)) t.name.replace(t.name.find("h.0"), 3, "h.7");
    });
    refused(dir, {"h.7.attn.c_attn", "which this model does not have"});
  }
  SECTION("NaN in a factor") {
    std::string dir = make_adapter("nan", micro);
    edit_tensors(dir + "/adapter_model.safetensors",
                 [&](std::vector<NamedTensor>& tensors) { tensors.back().values[0] = NAN; });
    refused(dir, {"non-finite"});
  }
  SECTION("missing or empty files") {
    std::string dir = make_adapter("files", micro);
    edit_json(dir + "/adapter_config.json", [](json& c) { c.erase("target_modules"); });
    refused(dir, {"adapter_config.json", "target_modules is missing"});
    s.write("files/adapter_config.json", "");
    refused(dir, {"adapter_config.json", "not valid JSON"});
    make_adapter("files", micro);
    fs::remove(dir + "/adapter_model.safetensors");
    refused(dir, {"adapter_model.safetensors", "cannot open"});
    expect_refused(logits_args(s.model(), out, " --adapter " + q(dir) + "@half"),
                   {"'half' after the last @ is not a scale"}, out);
  }
}

TEST_CASE("tokenizer files that are malformed or do not fit the model are refused", "[bad-input]") {
  test::TinySetup s("bad_tokenizer");
  auto eval = [&](const std::string& dir) {
    return "eval --model " + q(dir) + " --data " + q(s.data());
  };
  std::string dir = s.copy_model("empty_vocab");
  s.write("empty_vocab/vocab.json", "");
  expect_refused(eval(dir), {dir + "/vocab.json", "not valid JSON"});

  dir = s.copy_model("bad_merges");
  s.write("bad_merges/merges.txt", "#version: 0.2\nthree tokens here\n");
  expect_refused(eval(dir), {dir + "/merges.txt:2", "expected two tokens"});

  dir = s.copy_model("no_vocab");
  fs::remove(dir + "/vocab.json");
  expect_refused(eval(dir), {dir, "no tokenizer"});

  // One token more than config.json's vocab_size: the last id has no embedding.
  dir = s.copy_model("small_vocab");
  int64_t tokens = Tokenizer::load(dir).vocab_size();
  edit_json(dir + "/config.json", [&](json& c) { c["vocab_size"] = tokens - 1; });
  expect_refused(eval(dir),
                 {fmt::format("{} tokens, more than the vocab_size = {}", tokens, tokens - 1),
                  dir + "/config.json"});
}

TEST_CASE("token ids outside the vocabulary and sequences past n_positions are refused",
          "[bad-input]") {
  test::TinySetup s("bad_ids");
  std::string out = s.path("logits.f32"), model = q(s.model());
  expect_refused("logits --model " + model + " --ids 1,512 --out " + q(out),
                 {"token id 512", "outside the vocabulary (size 512)"}, out);
  expect_refused("logits --model " + model + " --ids 1,-3 --out " + q(out), {"'-3'"}, out);
  expect_refused("logits --model " + model + " --ids 1,,2 --out " + q(out), {"''"}, out);
  expect_refused("tokenize --tokenizer " + model + " --decode 5,100000", {"token id 100000"});
  std::string ids = "1";
  for (int i = 0; i < 64; ++i) ids += ",2";
  expect_refused("logits --model " + model + " --ids " + ids + " --out " + q(out),
                 {"65 tokens", "n_positions = 64"}, out);
  std::string prompt(200, 'x');
  for (size_t i = 1; i < prompt.size(); i += 2) prompt[i] = ' ';
  expect_refused("generate --model " + model + " --prompt " + q(prompt), {"n_positions = 64"});

  // Data examples longer than n_positions are not an error: they are truncated.
  std::string long_answer(2000, 'z');
  s.write("long.jsonl", "{\"question\": \"q\", \"answer\": \"" + long_answer + "\"}\n");
  test::CliResult r = test::run_lorasum("eval --model " + model + " --seq-len 1000 --data " +
                                        q(s.path("long.jsonl")));
  INFO(r.err);
  CHECK(r.status == 0);
}

TEST_CASE("data files that are malformed are refused naming the file and line", "[bad-input]") {
  test::TinySetup s("bad_data");
  std::string adapter = s.path("adapter");
  auto train = [&](const std::string& file) {
    return "train --model " + q(s.model()) + " --data " + q(file) + " --out " + q(adapter) +
           " --max-steps 2 --no-progress";
  };
  const std::string ok = R"({"question": "q", "answer": "a"})";
  struct Case {
    const char* name;
    std::string text;
    std::vector<std::string> fragments;
  };
  std::vector<Case> cases = {
      {"array.jsonl", ok + "\n[1, 2]\n", {":2: expected a JSON object"}},
      {"string.jsonl", "\"text\"\n", {":1: expected a JSON object"}},
      {"no_answer.jsonl", "{\"question\": \"q\"}\n", {":1: missing field \"answer\""}},
      {"number.jsonl",
       ok + "\n\n{\"question\": 5, \"answer\": \"a\"}\n",
       {":3: field \"question\" is not a string"}},
      {"broken.jsonl", ok + "\n{\"question\": \"q\", \n", {":2: not valid JSON"}},
      {"latin1.jsonl",
       ok + "\n{\"question\": \"caf\xe9\", \"answer\": \"a\"}\n",
       {":2: not valid UTF-8 (byte 0xe9 at column 18)"}},
      {"latin1.txt", "plain text, then caf\xe9\n", {":1: not valid UTF-8"}},
      {"surrogate.txt", "line one\nan encoded surrogate \xed\xa0\x80\n", {":2: not valid UTF-8"}},
      {"empty.jsonl", "", {": no examples"}},
      {"blank.jsonl", "\n \n\t\n", {": no examples"}},
      {"empty.txt", "", {": no text"}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    std::string file = s.write(c.name, c.text);
    std::vector<std::string> fragments = c.fragments;
    fragments[0] = file + fragments[0];
    expect_refused(train(file), fragments, adapter);
  }
  expect_refused(train(s.data()) + " --question-field prompt",
                 {s.data() + ":1: missing field \"prompt\""}, adapter);
}

TEST_CASE("command-line values that make no sense are refused before anything is written",
          "[bad-input]") {
  test::TinySetup s("bad_flags");
  std::string adapter = s.path("adapter");
  std::string train = "train --model " + q(s.model()) + " --data " + q(s.data()) + " --out " +
                      q(adapter) + " --max-steps 2 --no-progress ";
  for (const char* flag : {"--lr nan", "--lr inf", "--lr -1", "--lr 0", "--weight-decay nan",
                           "--grad-clip inf", "--dropout 2", "--dropout nan", "--alpha nan",
                           "--rank 0", "--seq-len 1", "--epochs 0", "--batch 0"}) {
    std::string name(flag);
    expect_flag_refused(train + flag, name.substr(0, name.find(' ')), adapter);
  }
  // Finite as a double, infinite as the float it is stored in.
  expect_refused(train + "--lr 1e39", {"learning rate", "inf"}, adapter);
  expect_refused(train + "--epochs 9223372036854775807", {"at most 1000000"}, adapter);
  expect_flag_refused("generate --model " + q(s.model()) + " --prompt hi --temperature nan",
                      "--temperature");
  expect_flag_refused("generate --model " + q(s.model()) + " --prompt hi --top-p nan", "--top-p");

  std::string corpus = s.write("corpus.txt", "some text to pretrain on, some text.\n");
  std::string model = s.path("pretrained");
  std::string pretrain = "pretrain --data " + q(corpus) + " --out " + q(model) +
                         " --max-steps 1 --no-progress --vocab-size 260 ";
  expect_refused(pretrain + "--n-embd 33 --n-head 2", {"not divisible"}, model);
  expect_refused(pretrain + "--n-layer 0", {"n_layer = 0"}, model);

  // An output folder that cannot be made: under a regular file.
  expect_refused("train --model " + q(s.model()) + " --data " + q(s.data()) + " --out " +
                     q(s.data() + "/adapter") + " --max-steps 1 --no-progress",
                 {"cannot create directories", s.data() + "/adapter"});
}
