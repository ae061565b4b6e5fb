// The pretraining dose: token budgets, snapshots of one run, and the dose as a setting of the
// base model that `reproduce` never reuses across.
#include <fmt/format.h>

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

namespace {

// A copy of `results` as if its base model had seen `dose` tokens per parameter, with each
// pair's change % and RMS cosine and each combination's ξ set by hand: ξ = dose/100·(k+1) for
// pair k, change % = 10·ξ + 1 and RMS cos = 1 − ξ, so that over the runs the change follows ξ
// exactly (r = 1) and the cosine exactly against it (r = −1).
json with_dose(json results, double dose) {
  results["base_model"]["pretraining"] = {{"tokens_per_parameter", dose},
                                          {"valid_loss", 6 - dose / 10}};
  json combinations = json::array();
  for (size_t k = 0; k < results["pairs"].size(); ++k) {
    json& pair = results["pairs"][k];
    double xi = dose / 100 * static_cast<double>(k + 1);
    pair["change_pct"] = 10 * xi + 1;
    pair["rms_cos"] = 1 - xi;
    combinations.push_back(
        {{"domains", pair["domains"]}, {"xi_mean", {{"mean", xi}, {"std", 0.001}}}});
  }
  combinations.push_back(
      {{"domains", {"math", "medicine", "finance"}}, {"xi_mean", {{"mean", dose}, {"std", 0.0}}}});
  results["compositions"] = {{"combinations", combinations}};
  return results;
}

}  // namespace

TEST_CASE("report sets runs of one size against their pretraining dose, with ξ", "[dose]") {
  std::string run = test::fresh_dir("dose_report_run"), out = test::fresh_dir("dose_report_out");
  REQUIRE(test::run_lorasum("reproduce --preset smoke --seeds 2 --max-steps 2 --eval-limit 4 "
                            "--no-compositions --out " +
                            run)
              .status == 0);
  json results = json::parse(read_file(run + "/results.json"));
  std::string runs;
  for (double dose : {8.0, 0.5, 2.0}) {
    std::string dir = fmt::format("{}-{}", run, dose);
    fs::create_directories(dir);
    write_file_atomic(dir + "/results.json", with_dose(results, dose).dump());
    runs += " " + dir;
  }
  test::CliResult r = test::run_lorasum("report --runs" + runs + " --out " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  json scale = json::parse(read_file(out + "/scale.json"));
  CHECK(scale["axis"] == "tokens_per_parameter");
  CHECK(scale["study"]["tokens_per_parameter"] == 100.0);
  REQUIRE(scale["runs"].size() == 3);
  CHECK(scale["runs"][0]["tokens_per_parameter"] == 0.5);  // ordered by dose
  CHECK(scale["runs"][2]["tokens_per_parameter"] == 8.0);
  CHECK(scale["runs"][2]["pairs"]["math+finance"]["xi"] == 0.16);  // 8/100·2
  CHECK(scale["runs"][2]["triple_xi"] == 8.0);
  const json& rel = scale["relation"];
  CHECK(rel["points"] == 9);
  CHECK(rel["pearson_xi"].get<double>() == Approx(1.0));
  CHECK(rel["pearson_rms_cos"].get<double>() == Approx(-1.0));
  CHECK(rel["spearman_xi"].get<double>() == Approx(1.0));
  std::string md = read_file(out + "/scale.md");
  CHECK_THAT(md, Contains("against pretraining dose") && Contains("| 0.5 |") &&
                     Contains("| 5.950 | 0.0050 ± 0.0010 | 0.0100 ± 0.0010 |") &&
                     Contains("| ~100 |"));
  CHECK_THAT(read_file(out + "/plots/scale.svg"), Contains("pretraining tokens per parameter"));
  std::string xi_svg = read_file(out + "/plots/scale_xi.svg");
  CHECK_THAT(xi_svg, Contains("all three"));
  CHECK(fs::exists(out + "/plots/change_vs_xi.svg"));
  CHECK_THAT(read_file(out + "/report.html"), Contains("the study against pretraining dose"));
  // The plots redrawn from scale.json alone are the same bytes.
  fs::remove(out + "/plots/scale_xi.svg");
  REQUIRE(test::run_lorasum("plots --from " + out).status == 0);
  CHECK(read_file(out + "/plots/scale_xi.svg") == xi_svg);
  for (const std::string& dir : {run, run + "-8", run + "-0.5", run + "-2", out})
    fs::remove_all(dir);
}

TEST_CASE("a smoke-size dose ladder: snapshots, the study on each, the report against dose",
          "[dose]") {
  std::string dir = test::fresh_dir("dose_ladder");
  // The smoke preset's generated QA data and corpus, from a run cut short.
  REQUIRE(test::run_lorasum("reproduce --preset smoke --seeds 1 --max-steps 1 --eval-limit 2 "
                            "--compositions none --out " +
                            dir + "/source")
              .status == 0);
  // The smoke preset's model: (320 + 96)·32 + 2·(12·32² + 13·32) + 2·32 = 38,784 parameters.
  std::string env = "LORASUM=" + std::string(LORASUM_BINARY) + " DATA=" + dir +
                    "/source/data GENERAL=" + dir + "/source/corpus.txt RUNS=" + dir +
                    "/ladder DOSES='0.5 2' CHOICES=none SEEDS=1 COMPOSITIONS=none PRESET=smoke "
                    "VOCAB=320 N_LAYER=2 N_HEAD=2 N_EMBD=32 N_POSITIONS=96 BATCH=8 SEQ_LEN=64 "
                    "EXTRA='--max-steps 2 --eval-limit 4' " LORASUM_SOURCE_DIR
                    "/scripts/dose-ladder.sh ";
  for (const char* stage : {"pretrain", "adapters", "report"}) {
    test::CliResult r = test::run_shell(env + stage);
    INFO(stage << ": " << r.err);
    REQUIRE(r.status == 0);
  }
  for (auto [dose, tokens] : {std::pair{0.5, 19392}, std::pair{2.0, 77568}}) {
    json p = json::parse(
        read_file(fmt::format("{}/ladder/base-tokens{}/pretraining.json", dir, tokens)));
    CHECK(p["parameters"] == 38784.0);
    CHECK(p["tokens"].get<double>() >= tokens);  // whole steps of 8 × 64 tokens
    CHECK(p["tokens"].get<double>() < tokens + 8 * 64);
    CHECK(p["tokens_per_parameter"].get<double>() == Approx(dose).epsilon(0.02));
  }
  json scale = json::parse(read_file(dir + "/ladder/data-none/report/scale.json"));
  CHECK(scale["axis"] == "tokens_per_parameter");
  REQUIRE(scale["runs"].size() == 2);
  CHECK(scale["runs"][0]["tokens_per_parameter"].get<double>() == Approx(0.5).epsilon(0.02));
  CHECK(scale["relation"]["points"] == 6);  // 2 doses × 3 pairs, each with its ξ
  CHECK(fs::exists(dir + "/ladder/data-none/report/plots/change_vs_xi.svg"));
  // A rerun trains nothing: every job is reused.
  test::CliResult again = test::run_shell(env + "adapters");
  CHECK_THAT(again.err + again.out, Contains("adapter jobs: 7 reused, 0 resumed, 0 trained"));
  fs::remove_all(dir);
}

TEST_CASE("the matched-rate search reports the try nearest the target gain", "[dose]") {
  std::string dir = test::fresh_dir("matched_lr");
  fs::create_directories(dir);
  // A stand-in for lorasum: an adapter trained at rate lr divides the base perplexity of 100 by
  // g(lr) = 1 + 0.5·exp(−(log10 lr + 2.5)²), which peaks at 1.5 for lr = 10^−2.5.
  write_file_atomic(dir + "/fake", R"sh(#!/usr/bin/env bash
if [ "$1" = train ]; then
  while [ $# -gt 0 ]; do case $1 in --lr) lr=$2 ;; --out) out=$2 ;; esac; shift; done
  mkdir -p "$out" && echo "$lr" > "$out/lr"
else
  adapter=; while [ $# -gt 0 ]; do [ "$1" = --adapter ] && adapter=$2; shift; done
  awk -v a="$adapter" -v lr="$( [ -n "$adapter" ] && cat "$adapter/lr" )" 'BEGIN {
    g = a == "" ? 1 : 1 + 0.5 * exp(-(log(lr) / log(10) + 2.5) ^ 2)
    printf "{\"perplexity\":%.6f}\n", 100 / g
}'
fi
)sh");
  std::string env = "chmod +x " + dir + "/fake && LORASUM=" + dir + "/fake WORK=" + dir +
                    " LO=1e-4 HI=1e-1 STEPS=4 " LORASUM_SOURCE_DIR "/scripts/dose-matched-lr.sh ";
  test::CliResult gain = test::run_shell(env + "gain model data 0.00316");
  INFO(gain.err);
  CHECK(gain.out == "1.5000\n");
  // Out of reach (1.8 > the peak): every try falls short, bisection climbs past the peak, and
  // the answer is its first try, at the peak, not its last.
  test::CliResult far = test::run_shell(env + "match model data 1.8");
  INFO(far.err);
  CHECK_THAT(far.err, Contains("try lr 0.00316 gain 1.5000") && Contains("try lr 0.0422"));
  CHECK(far.out == "lr 0.00316 gain 1.5000\n");
  fs::remove_all(dir);
}
