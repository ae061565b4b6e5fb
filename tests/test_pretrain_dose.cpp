// The pretraining dose: token budgets, snapshots of one run, and the dose as a setting of the
// base model that `reproduce` never reuses across.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "experiments/app/pretrain_dose.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
namespace fs = std::filesystem;
using Catch::Contains;
using nlohmann::json;

TEST_CASE("token counts read plain numbers and k, M, G, and refuse anything else", "[dose]") {
  CHECK(parse_token_count("32000000", "--tokens") == 32'000'000);
  CHECK(parse_token_count("32M", "--tokens") == 32'000'000);
  CHECK(parse_token_count("1.5k", "--tokens") == 1500);
  CHECK(parse_token_count("2G", "--tokens") == 2'000'000'000);
  for (const char* bad : {"", "0", "-5", "1.5", "3X", "M", "nan", "1e300", "12 "})
    CHECK_THROWS_WITH(parse_token_count(bad, "--tokens"),
                      Contains("--tokens") && Contains("whole number of tokens"));
  CHECK(parse_token_counts("3M,1M,3M,10k", "--save-at") ==
        std::vector<int64_t>{10'000, 1'000'000, 3'000'000});
  CHECK_THROWS_AS(parse_token_counts("1M,,2M", "--save-at"), InputError);
}

TEST_CASE("a token budget sets the steps and as many passes as they need", "[dose]") {
  TrainOptions t;
  t.batch = 4;
  t.grad_accum = 2;
  CHECK(tokens_per_step(t, 16) == 128);       // 4 × 2 windows of 16 predicted tokens
  CHECK(steps_for_tokens(t, 16, 1000) == 8);  // ⌈1000 / 128⌉
  // 10 windows: 3 micro-batches an epoch; 8 steps of 2 micro-batches need ⌈16 / 3⌉ = 6 epochs.
  TrainOptions budget = with_token_budget(t, 16, 10, 1000);
  CHECK(budget.max_steps == 8);
  CHECK(budget.epochs == 6);
  CHECK(planned_steps(budget, 10) == 8);
  t.max_steps = 5;  // an earlier stop still stops first
  CHECK(with_token_budget(t, 16, 10, 1000).max_steps == 5);
  CHECK(snapshot_dir("models/base/", 3000) == "models/base-tokens3000");
}

namespace {

std::string pretrain_args(const test::TinySetup& s, const std::string& out,
                          const std::string& extra) {
  return "pretrain --data " + s.path("corpus.txt") + " --out " + out +
         " --vocab-size 280 --n-layer 1 --n-head 2 --n-embd 16 --n-positions 32 --batch 2 "
         "--seq-len 16 --warmup 2 --threads 1 --no-progress " +
         extra;
}

}  // namespace

TEST_CASE("a snapshot of a pretraining is bit-identical to the run stopped there", "[dose]") {
  test::TinySetup s("dose_snapshot");
  std::string text;  // ~ 1500 tokens, 2 % of them held out: 3000 tokens take several passes
  for (int i = 0; i < 150; ++i) text += fmt::format("Line {} of a small corpus. ", i % 7);
  s.write("corpus.txt", text);
  std::string whole = s.path("whole"), stopped = s.path("stopped");
  test::CliResult r = test::run_lorasum(
      pretrain_args(s, whole, "--schedule constant --tokens 3000 --save-at 640,1280"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(
      test::run_lorasum(pretrain_args(s, stopped, "--schedule constant --tokens 1280")).status ==
      0);
  std::string snap = whole + "-tokens1280";
  CHECK(read_file(snap + "/model.safetensors") == read_file(stopped + "/model.safetensors"));
  CHECK(read_file(snap + "/vocab.json") == read_file(stopped + "/vocab.json"));
  CHECK(read_file(snap + "/settings.json") == read_file(stopped + "/settings.json"));
  CHECK(fs::exists(whole + "-tokens640/model.safetensors"));
  json dose = json::parse(read_file(whole + "/pretraining.json"));
  CHECK(dose["steps"] == 94);  // ⌈3000 / (2 × 16)⌉
  CHECK(dose["tokens"] == 94 * 32);
  CHECK(dose["passes"].get<double>() > 1.5);  // the corpus repeated
  CHECK(dose["tokens_per_parameter"].get<double>() ==
        Approx(94.0 * 32 / dose["parameters"].get<double>()));
  json snap_dose = json::parse(read_file(snap + "/pretraining.json"));
  json stopped_dose = json::parse(read_file(stopped + "/pretraining.json"));
  CHECK(snap_dose["tokens"] == 1280);
  CHECK(snap_dose["valid_loss"].get<double>() ==
        Approx(stopped_dose["valid_loss"].get<double>()).epsilon(1e-6));
  // A snapshot the run never reaches is refused before any training.
  r = test::run_lorasum(pretrain_args(s, s.path("short"), "--tokens 100 --save-at 5000"));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("--save-at 5000"));
  CHECK_FALSE(fs::exists(s.path("short")));
}

TEST_CASE("reproduce --pretrain-tokens makes another base model, never reusing one", "[dose]") {
  std::string dir = test::fresh_dir("dose_reproduce");
  std::string cut =
      " --preset smoke --seeds 1 --only math+medicine --max-steps 1 --eval-limit 2"
      " --no-progress --jobs 1 --out " +
      dir;
  test::CliResult r = test::run_lorasum("reproduce --pretrain-tokens 4000" + cut);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Contains("pretraining the base model on 4000 tokens"));
  json base = json::parse(read_file(dir + "/results.json"))["base_model"];
  CHECK(base["pretraining"]["steps"] == 8);  // ⌈4000 / (8 × 64)⌉
  CHECK(base["pretraining"]["tokens_per_parameter"].get<double>() > 0);
  json record = json::parse(read_file(dir + "/base-model/settings.json"));
  CHECK(record["tokens"] == 4000);
  // Another dose in the same run folder: refused, naming the setting, nothing reused.
  r = test::run_lorasum("reproduce --pretrain-tokens 8000" + cut);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("tokens"));
  CHECK(json::parse(read_file(dir + "/base-model/settings.json"))["tokens"] == 4000);
  fs::remove_all(dir);
}
