// The lorasum command line, end to end.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "experiments/app/workspace.h"
#include "tests/cli_expect.h"
#include "tests/cli_runner.h"
#include "tests/fixtures.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::vector<float> read_floats(const std::string& path) {
  std::string bytes = read_file(path);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s += ',';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace

TEST_CASE(
    "lorasum logits matches the PyTorch fixture, with and without weighted adapters and reference "
    "ops",
    "[cli]") {
  std::string model = test::quoted(test::fixture_path("model"));
  std::string out = (fs::temp_directory_path() / "lorasum_cli_logits.f32").string();
  test::ParityBatch batch = test::parity_batch();
  // The command takes one sequence: the batch's first row, whose logits come first.
  std::vector<int32_t> row(batch.ids.begin(), batch.ids.begin() + batch.seq);
  for (auto& [name, c] : batch.cases) {
    std::string adapters;
    for (auto& [dir, weight] : c.adapters)
      adapters +=
          " --adapter " + test::quoted(test::fixture_path(dir) + "@" + std::to_string(weight));
    std::vector<float> expected = test::expected("logits." + name);
    expected.resize(expected.size() / batch.batch);
    for (const char* kernels : {"", " --reference-ops"}) {
      test::CliResult r = test::run_lorasum("logits --model " + model + " --ids " + ids_text(row) +
                                            " --out " + out + adapters + kernels);
      INFO(name << kernels << ": " << r.err);
      REQUIRE(r.status == 0);
      CHECK(test::relative_error(read_floats(out), expected) < 1e-4);
    }
  }
  fs::remove(out);
}

TEST_CASE("bad command-line input exits with status 2 and a clear message", "[cli]") {
  test::CliResult r = test::run_lorasum("logits --model /nonexistent --ids 1,2 --out /tmp/x.f32");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent"));
  r = test::run_lorasum("frobnicate");
  CHECK(r.status == 2);
  std::string model = test::quoted(test::fixture_path("model"));
  r = test::run_lorasum("logits --model " + model + " --ids 1,x,3 --out /tmp/lorasum_never.f32");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("'x'"));
  r = test::run_lorasum("logits --model " + model + " --ids 1,64 --out /tmp/lorasum_never.f32");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("vocabulary"));  // of 64 tokens
  CHECK_FALSE(fs::exists("/tmp/lorasum_never.f32"));
}

TEST_CASE("every subcommand has --help", "[cli]") {
  // The subcommands as bare `lorasum` lists them, so a new one cannot be missed.
  std::string usage = test::run_lorasum("").err;
  std::istringstream lines(usage.substr(usage.find("Subcommands:")));
  std::vector<std::string> commands;
  std::smatch m;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, m, std::regex("^  ([a-z]+) "))) commands.push_back(m[1]);
  CHECK(commands.size() >= 14);
  for (const std::string& cmd : commands) {
    test::CliResult r = test::run_lorasum(cmd + " --help");
    INFO(cmd);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("Usage: lorasum " + cmd));
  }
}

TEST_CASE("lorasum --version prints the CMake project version", "[cli]") {
  std::smatch m;
  std::string cmake = read_file(std::string(LORASUM_SOURCE_DIR) + "/CMakeLists.txt");
  REQUIRE(std::regex_search(cmake, m, std::regex(R"(project\(lorasum VERSION ([0-9.]+))")));
  test::CliResult r = test::run_lorasum("--version");
  CHECK(r.status == 0);
  CHECK(r.out == "lorasum " + m[1].str() + "\n");
}

TEST_CASE("lorasum alone lists the subcommands and fails as a command without one", "[cli]") {
  test::CliResult r = test::run_lorasum("");
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  for (const char* cmd : {"info", "generate", "logits", "tokenize", "eval", "train", "pretrain",
                          "bench", "reproduce", "merge", "similarity"})
    CHECK_THAT(r.err, Contains(std::string("\n  ") + cmd + " "));
}

TEST_CASE("a misspelt subcommand or option gets a suggestion and status 2", "[cli]") {
  struct Case {
    const char* args;
    std::string message;
  };
  for (const Case& c :
       {Case{"trian --model m", "unknown subcommand 'trian'; did you mean 'train'?"},
        // A shortened name: its own subcommand, though 'report' is fewer edits away.
        Case{"repro --preset smoke", "unknown subcommand 'repro'; did you mean 'reproduce'?"},
        Case{"train --modle m --data d --out o",
             "unknown option '--modle'; did you mean '--model'?"},
        Case{"eval --seq_len=4", "unknown option '--seq_len'; did you mean '--seq-len'?"},
        Case{"--verison", "unknown option '--verison'; did you mean '--version'?"},
        Case{"frobnicate", "unknown subcommand 'frobnicate' (expected one of 'info', 'generate'"},
        Case{"merge --xyzzy",
             "unknown option '--xyzzy' (expected one of '--help', '--help-all', '--adapter'"}}) {
    test::CliResult r = test::run_lorasum(c.args);
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("lorasum: error: " + c.message));
  }
}

TEST_CASE("range errors state the range in words", "[cli]") {
  test::TinySetup s("cli_range");
  std::string train = "train --model " + test::quoted(s.model()) + " --data " +
                      test::quoted(s.data()) + " --out " + test::quoted(s.path("a")) + " ";
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{train + "--epochs 0", "--epochs: must be ≥ 1 (got 0)"},
        Case{train + "--lr 0", "--lr: must be > 0 (got 0)"},
        Case{train + "--lr nan", "--lr: must be a finite number > 0 (got nan)"},
        Case{train + "--lr inf", "--lr: must be a finite number > 0 (got inf)"},
        Case{train + "--warmup -3", "--warmup: must be ≥ 0 (got -3)"},
        Case{train + "--dropout 1", "--dropout: must be between 0 and 0.99 (got 1)"},
        Case{"reproduce --seeds 0", "--seeds: must be between 1 and 100 (got 0)"},
        Case{"merge --adapter a --out o --method ties --density 0",
             "--density: must be in (0, 1] (got 0)"},
        Case{"bench --steps 0", "--steps: must be ≥ 1 (got 0)"},
        Case{"bench --only merge,foo", "--only: foo not in {lora_train_step,"}}) {
    test::CliResult r = test::run_lorasum(c.args);
    INFO(c.args << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK_FALSE(std::regex_search(r.err, std::regex("[0-9]{20}")));
  }
  CHECK_FALSE(fs::exists(s.path("a")));
}

TEST_CASE("an unknown --targets module is refused with the valid names", "[cli]") {
  test::TinySetup s("cli_targets");
  std::string adapter = s.path("adapter");
  test::CliResult r = test::run_lorasum("train --model " + test::quoted(s.model()) + " --data " +
                                        test::quoted(s.data()) + " --out " + test::quoted(adapter) +
                                        " --targets c_attn,c_prj --max-steps 1 --no-progress");
  INFO(r.err);
  CHECK(r.status == 2);
  // GPT-2's Linears: h.N.attn.c_attn, h.N.attn.c_proj, h.N.mlp.c_fc, h.N.mlp.c_proj.
  CHECK_THAT(r.err, Contains("LoRA target 'c_prj' matches no module of the model; valid names: "
                             "attn.c_attn, attn.c_proj, c_attn, c_fc, c_proj, mlp.c_fc, "
                             "mlp.c_proj (or a full name such as h.0.attn.c_attn)"));
  CHECK_FALSE(fs::exists(adapter));
}

TEST_CASE("an @ in an adapter folder's name is not taken for a scale", "[cli]") {
  test::TinySetup s("cli_at");
  for (const char* dir : {"run@v2", "a@0.5", "a", "b"}) fs::create_directories(s.path(dir));
  AdapterSpec spec = AdapterSpec::parse(s.path("run@v2"));
  CHECK(spec.dir == s.path("run@v2"));
  CHECK(spec.scale == 1.0f);
  spec = AdapterSpec::parse(s.path("run@v2@0.25"));
  CHECK(spec.dir == s.path("run@v2"));
  CHECK(spec.scale == 0.25f);
  spec = AdapterSpec::parse(s.path("b@-2"));
  CHECK(spec.dir == s.path("b"));
  CHECK(spec.scale == -2.0f);
  // Both readings exist: refused, with both ways to say which.
  CHECK_THROWS_WITH(AdapterSpec::parse(s.path("a@0.5")), Contains("ambiguous") &&
                                                             Contains(s.path("a@0.5") + "@1") &&
                                                             Contains(s.path("a") + "/@0.5"));
  spec = AdapterSpec::parse(s.path("a") + "/@0.5");
  CHECK(spec.dir == s.path("a") + "/");
  CHECK(spec.scale == 0.5f);
  CHECK_THROWS_WITH(AdapterSpec::parse(s.path("gone@v3")),
                    Contains("'v3' after the last @ is not a scale") &&
                        Contains("add a scale: " + s.path("gone@v3") + "@1"));
}

TEST_CASE("the help texts agree with each other", "[cli]") {
  for (const char* cmd : {"train", "pretrain", "reproduce"}) {
    test::CliResult r = test::run_lorasum(std::string(cmd) + " --help");
    INFO(cmd);
    CHECK_THAT(r.out, Contains("--no-progress"));
    CHECK_THAT(r.out, !Contains("{false}"));
  }
  CHECK_THAT(test::run_lorasum("train --help").out, Contains("c_attn,c_proj"));
  CHECK_THAT(test::run_lorasum("bench --help").out,
             Contains("c_attn alone by default") && Contains("train's default is c_attn,c_proj"));
  CHECK_THAT(test::run_lorasum("merge --help").out, Contains("in (0, 1]") && !Contains("[0 - 1]"));
}

TEST_CASE("bench times only the figures --only names, the pair's predictors among them", "[cli]") {
  test::CliResult r =
      test::run_lorasum("bench --config micro --steps 1 --only similarity,interference --json");
  INFO(r.err);
  REQUIRE(r.status == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["figures"].size() == 2);
  CHECK(j["figures"]["interference"]["median_ms"].get<double>() > 0);
  CHECK_THAT(j["figures"]["interference"]["note"].get<std::string>(),
             Contains("64 examples of 64 tokens per domain"));
}

TEST_CASE("generate's sampling flags are checked at their bounds", "[cli]") {
  test::TinySetup s("cli_sampling");
  // A model whose every id the tokenizer can decode (the setup's has room for more), so that
  // any token sampled prints.
  GPT2Config config = GPT2Config::load(s.model() + "/config.json");
  config.vocab_size = load_tokenizer(s.model()).vocab_size();
  save_gpt2(GPT2(config, 1), s.model());
  std::string gen = "generate --model " + test::quoted(s.model()) +
                    " --prompt 'What is 1 plus' --max-new-tokens 6 --seed 3 ";
  test::CliResult greedy = test::run_lorasum(gen + "--temperature 0");
  REQUIRE(greedy.status == 0);
  // At the bounds that make sense: no top-k limit, the whole mass, nothing to generate, and a
  // mass so small (or a k so low) that only the likeliest token is left: greedy decoding.
  for (const char* flags : {"--top-k 0", "--top-p 1"}) {
    test::CliResult r = test::run_lorasum(gen + flags);
    INFO(flags << ": " << r.err);
    CHECK(r.status == 0);
  }
  CHECK(test::run_lorasum(gen + "--top-p 1e-6").out == greedy.out);
  CHECK(test::run_lorasum(gen + "--top-k 1").out == greedy.out);
  CHECK(test::run_lorasum("generate --model " + test::quoted(s.model()) +
                          " --prompt 'What is 1 plus' --max-new-tokens 0")
            .out == "What is 1 plus\n");
  // Past them: a top-p of 0 would keep no token at all (it emitted token 0 at every step).
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : {Case{"--top-p 0", "--top-p: must be in (0, 1] (got 0)"},
                        Case{"--top-p 1.01", "--top-p: must be in (0, 1] (got 1.01)"},
                        Case{"--top-p nan", "--top-p: must be a finite number in (0, 1]"},
                        Case{"--temperature -0.5", "--temperature: must be ≥ 0 (got -0.5)"},
                        Case{"--temperature inf", "--temperature: must be a finite number ≥ 0"},
                        Case{"--top-k -1", "--top-k: must be ≥ 0 (got -1)"}}) {
    test::CliResult r = test::run_lorasum(gen + c.flags);
    INFO(c.flags << ": " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(c.message));
    CHECK(r.out.empty());
  }
  test::CliResult negative = test::run_lorasum("generate --model " + test::quoted(s.model()) +
                                               " --prompt 'What is 1 plus' --max-new-tokens -1");
  CHECK(negative.status == 2);
  CHECK_THAT(negative.err, Contains("--max-new-tokens: must be ≥ 0 (got -1)"));
}

TEST_CASE("generate says when the model's context ends it before --max-new-tokens", "[cli]") {
  test::TinySetup s("cli_context");  // the micro model: 64 positions
  std::string gen = "generate --model " + test::quoted(s.model()) +
                    " --prompt 'What is 1 plus' --temperature 0 --max-new-tokens ";
  test::CliResult all = test::run_lorasum(gen + "200");
  INFO(all.err);
  REQUIRE(all.status == 0);
  // The prompt's tokens, as `tokenize` counts them, and the new ones fill the 64 positions.
  test::CliResult ids = test::run_lorasum("tokenize --tokenizer " + test::quoted(s.model()) +
                                          " --text 'What is 1 plus'");
  auto prompt = static_cast<size_t>(std::count(ids.out.begin(), ids.out.end(), ',') + 1);
  CHECK_THAT(all.err, Contains(fmt::format("note: stopped after {} of --max-new-tokens 200: with "
                                           "the prompt's {} tokens they fill the model's 64 "
                                           "positions",
                                           64 - prompt, prompt)));
  test::CliResult few = test::run_lorasum(gen + "5");
  CHECK(few.status == 0);
  CHECK(few.err.empty());
}

TEST_CASE("flags that would do nothing, or less than asked, are refused or noted", "[cli]") {
  test::TinySetup s("cli_nothing");
  std::string train = "train --model " + test::quoted(s.model()) + " --data " +
                      test::quoted(s.data()) + " --out " + test::quoted(s.path("a")) +
                      " --no-progress ";
  for (const char* zero : {"0", "0.0e3", "-0"}) {
    test::CliResult r = test::run_lorasum(train + "--alpha " + zero);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("--alpha: must not be 0 (scaling = alpha / r would switch the "
                               "adapter off)"));
  }
  CHECK_FALSE(fs::exists(s.path("a")));
  test::expect_refused("pretrain --data " + test::quoted(s.data()) + " --out " +
                           test::quoted(s.path("m")) + " --seq-len 200 --n-positions 64",
                       {"--seq-len 200 is longer than --n-positions 64"}, s.path("m"));
  test::expect_refused("tokenize --tokenizer " + test::quoted(s.model()),
                       {"tokenize: nothing to do; give --text, --file or --decode"});
  // A warm-up longer than the run: the learning rate never reaches its peak. Said once.
  test::CliResult warm = test::run_lorasum(train + "--max-steps 2 --warmup 1000");
  INFO(warm.err);
  REQUIRE(warm.status == 0);
  std::string note =
      "note: --warmup 1000 is longer than the run's 2 steps: the learning rate rises to 2/1000 "
      "of its peak";
  CHECK_THAT(warm.err, Contains(note));
  CHECK(warm.err.find(note) == warm.err.rfind(note));
  test::CliResult fits = test::run_lorasum(
      "train --model " + test::quoted(s.model()) + " --data " + test::quoted(s.data()) + " --out " +
      test::quoted(s.path("b")) + " --no-progress --max-steps 2 --warmup 2");
  CHECK(fits.status == 0);
  CHECK_THAT(fits.err, !Contains("--warmup"));
}

TEST_CASE("messages name what is wrong before any work is done", "[cli]") {
  test::TinySetup s("cli_messages");
  std::string model = test::quoted(s.model());
  test::expect_refused("reproduce --study-choices none,all",
                       {"--study-choices none,all: 'none' stands alone"});
  test::expect_refused("reproduce --study-choices aligned-labels,all",
                       {"'all' stands alone; give --study-choices all"});
  test::expect_refused("eval --model /nonexistent_lorasum --data " + test::quoted(s.data()),
                       {"/nonexistent_lorasum: no such folder"});
  // Output files in a missing folder: refused as the flags are read, not after the work.
  std::string a = test::quoted(test::fixture_path("adapter-a")),
              b = test::quoted(test::fixture_path("adapter-b"));
  const std::pair<std::string, std::string> outputs[] = {
      {"logits --model " + model + " --ids 1,2 --out /nonexistent_lorasum/l.f32",
       "--out: /nonexistent_lorasum/l.f32: the folder /nonexistent_lorasum does not exist"},
      {"similarity --adapter " + a + " --adapter " + b + " --csv /nonexistent_lorasum/x.csv",
       "--csv: /nonexistent_lorasum/x.csv: the folder /nonexistent_lorasum does not exist"}};
  for (const auto& [args, message] : outputs) {
    test::CliResult r = test::run_lorasum(args);
    INFO(args << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(message));
    CHECK(r.out.empty());
  }
}

TEST_CASE("info counts the parameters in blocks as report and results.json do", "[cli]") {
  test::TinySetup s("cli_info");  // micro: 2 layers, 32 wide, 64 positions
  test::CliResult r = test::run_lorasum("info --model " + test::quoted(s.model()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  // By hand: per block two layer norms 4C, c_attn 3C² + 3C, c_proj C² + C, c_fc 4C² + 4C,
  // mlp c_proj 4C² + C; the final layer norm 2C; embeddings (V + P)·C.
  const int64_t c = 32, blocks = 2 * (4 * c + 3 * c * c + 3 * c + c * c + c + 4 * c * c + 4 * c +
                                      4 * c * c + c);
  GPT2Config config = GPT2Config::load(s.model() + "/config.json");
  int64_t embeddings = (config.vocab_size + 64) * c;
  CHECK_THAT(r.out, Contains(fmt::format("parameters: {} (", embeddings + blocks + 2 * c)));
  CHECK_THAT(r.out, Contains(fmt::format("{} in embeddings, {} in blocks, {} in the final layer "
                                         "norm)",
                                         embeddings, blocks, 2 * c)));
}
