// The reproduction end to end on the smoke preset: every table row, file and figure.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "tensor/io/file_io.h"
#include "tests/cli_expect.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;
using test::fresh_dir;

namespace {

// The folder of job `name` ("seed0/math"): its name carries a digest of its settings.
std::string job_folder(const std::string& run, const std::string& name) {
  fs::path base = fs::path(run) / name;
  std::string found;
  for (auto& entry : fs::directory_iterator(base.parent_path())) {
    std::string file = entry.path().filename().string();
    if (file.rfind(base.filename().string() + "-", 0) == 0) {
      REQUIRE(found.empty());  // one job of these settings
      found = entry.path().string();
    }
  }
  REQUIRE(!found.empty());
  return found;
}

void check_finite(const json& j, const std::string& where) {
  if (j.is_number()) {
    INFO(where);
    CHECK(std::isfinite(j.get<double>()));
  } else if (j.is_object()) {
    for (auto& [key, value] : j.items()) check_finite(value, where + "." + key);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) check_finite(j[i], where + "[" + std::to_string(i) + "]");
  }
}

}  // namespace

TEST_CASE("reproduce --preset smoke writes every table, file and finite figure", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_smoke");
  test::CliResult r =
      test::run_lorasum("reproduce --preset smoke --seeds 2 --no-progress --out " + dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  for (const char* pair : {"math+medicine", "math+finance", "medicine+finance"}) {
    CHECK_THAT(r.out, Catch::Contains(std::string("| ") + pair + " |"));
    CHECK(fs::exists(dir + "/plots/cosine_" + pair + ".svg"));
    for (int seed = 0; seed < 2; ++seed)
      CHECK(fs::exists(job_folder(dir, "seed" + std::to_string(seed) + "/" + pair) +
                       "/adapter_model.safetensors"));
  }
  for (const char* row : {"sum of the three singles", "merged math+medicine + single finance",
                          "| base model |", "Pearson r", "Random-adapter baseline"})
    CHECK_THAT(r.out, Catch::Contains(row));
  for (const char* file :
       {"results.md", "results.csv", "results.json", "plots/change_vs_cosine.svg",
        "plots/training_curves.svg", "base-model/model.safetensors", "report.html"})
    CHECK(fs::exists(dir + "/" + file));
  CHECK_THAT(r.out, Catch::Contains("Report: " + dir + "/report.html"));

  json j = json::parse(read_file(dir + "/results.json"));
  REQUIRE(j["pairs"].size() == 3);
  REQUIRE(j["jobs"].size() == 14);
  for (auto& job : j["jobs"]) {
    CHECK(job["lr"] == 0.0003);  // the smoke preset's uniform settings
    CHECK(job["batch"] == 8);
    CHECK(job["warmup"] == 1);
    CHECK(fs::exists(job["folder"].get<std::string>() + "/settings.json"));
  }
  CHECK(j["study_choices"].empty());
  for (auto& p : j["pairs"]) {
    CHECK(p["per_seed"]["change_pct"].size() == 2);
    // Per seed, change % comes from that seed's two perplexities; the figure is their mean.
    auto& seeds = p["per_seed"];
    double mean = 0;
    for (size_t s = 0; s < 2; ++s) {
      double merged = seeds["ppl_merged"][s], summed = seeds["ppl_sum"][s];
      CHECK(seeds["change_pct"][s].get<double>() == Approx((summed - merged) / merged * 100));
      mean += seeds["change_pct"][s].get<double>() / 2;
    }
    CHECK(p["change_pct"].get<double>() == Approx(mean));
    CHECK(p["rms_cos"].get<double>() >= 0.0);
    CHECK(p["rms_cos"].get<double>() <= 1.0);
  }
  CHECK(j["triple"]["variants"].size() == 3);
  CHECK(j["singles"].size() == 3);
  CHECK(j["fit"]["points"] == 6);
  check_finite(j, "results");
  std::string csv = read_file(dir + "/results.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 2 * (3 + 1 + 3));
  CHECK_THAT(read_file(dir + "/plots/change_vs_cosine.svg"), Catch::Contains("</svg>"));

  // A rerun reuses every adapter and gives the same figures.
  test::CliResult again =
      test::run_lorasum("reproduce --preset smoke --seeds 2 --no-progress --out " + dir);
  REQUIRE(again.status == 0);
  json k = json::parse(read_file(dir + "/results.json"));
  CHECK(k["pairs"] == j["pairs"]);
  fs::remove_all(dir);
}

TEST_CASE("reproduce --plan prints runnable jobs that reproduce then picks up", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_plan");
  test::CliResult plan =
      test::run_lorasum("reproduce --preset smoke --seeds 1 --plan --out " + dir);
  INFO(plan.err);
  REQUIRE(plan.status == 0);
  std::istringstream lines(plan.out);
  std::string line;
  std::vector<std::string> commands;
  std::string estimate;
  while (std::getline(lines, line))
    if (line.rfind("# ", 0) == 0)
      estimate = line;
    else if (!line.empty())
      commands.push_back(line);
  REQUIRE(commands.size() == 1 + 7);  // pretraining, then 3 singles + 3 pairs + 1 triple
  // The last line. Its tokens by hand: pretraining 20 steps × 8 × 64 = 10 240; the adapters,
  // with no tokenizer yet, at the full 64 positions: 48 examples a domain in batches of 8 make
  // 6 steps a single, 12 a pair, 18 the triple, 72 in all × 8 × 64 = 36 864.
  CHECK(plan.out.substr(plan.out.rfind('#')) == estimate + "\n");
  CHECK_THAT(estimate, Catch::StartsWith("# estimated total: ") &&
                           Catch::Contains(" on this machine (47.1 k tokens at ") &&
                           Catch::Contains(" tokens/s"));
  CHECK_THAT(commands[0], Catch::Contains(" pretrain "));
  for (const std::string& c : commands) REQUIRE(std::system((c + " >/dev/null 2>&1").c_str()) == 0);
  test::CliResult plan_again =
      test::run_lorasum("reproduce --preset smoke --seeds 1 --plan --out " + dir);
  CHECK(plan_again.status == 0);  // nothing left to do, and it says so
  CHECK(plan_again.out ==
        "# every job is finished: nothing to train\n# estimated total: 0 s on this machine\n");
  std::string adapter = job_folder(dir, "seed0/math") + "/adapter_model.safetensors";
  auto written = fs::last_write_time(adapter);
  test::CliResult r = test::run_lorasum("reproduce --preset smoke --seeds 1 --out " + dir);
  REQUIRE(r.status == 0);
  CHECK(fs::last_write_time(adapter) == written);  // picked up, not retrained
  CHECK(fs::exists(dir + "/results.json"));
  fs::remove_all(dir);
}

TEST_CASE("adapter jobs run at once give the same bits as one at a time", "[reproduce]") {
  std::string one = fresh_dir("reproduce_jobs1"), two = fresh_dir("reproduce_jobs2");
  test::CliResult a = test::run_lorasum("reproduce --preset smoke --seeds 1 --jobs 1 --out " + one);
  test::CliResult b = test::run_lorasum("reproduce --preset smoke --seeds 1 --jobs 2 --out " + two);
  INFO(a.err << b.err);
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  for (const char* name : {"seed0/math", "seed0/medicine+finance", "seed0/math+medicine+finance"}) {
    INFO(name);
    std::string file = "/adapter_model.safetensors";
    CHECK(read_file(job_folder(one, name) + file) == read_file(job_folder(two, name) + file));
  }
  json ja = json::parse(read_file(one + "/results.json"));
  json jb = json::parse(read_file(two + "/results.json"));
  CHECK(ja["pairs"] == jb["pairs"]);
  CHECK(ja["triple"] == jb["triple"]);
  CHECK(fs::exists(two + "/logs/seed0"));  // each child's output
  fs::remove_all(one);
  fs::remove_all(two);
}

TEST_CASE("a failing adapter job stops reproduce naming the job and its log", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_job_fails");
  test::CliResult r = test::run_lorasum("reproduce --preset smoke --seeds 1 --jobs 2 --out " + dir,
                                        "LORASUM_TEST_FAIL_WRITE=adapter_config.json");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("seed0/") && Catch::Contains("failed (exit status 2)") &&
                        Catch::Contains(dir + "/logs/seed0/") &&
                        Catch::Contains("No space left on device"));
  CHECK(!fs::exists(dir + "/results.json"));
  fs::remove_all(dir);
}

TEST_CASE("reproduce --max-steps and --eval-limit cut a run short", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_cut_short");
  test::CliResult r = test::run_lorasum(
      "reproduce --preset smoke --seeds 1 --max-steps 3 "
      "--eval-limit 5 --out " +
      dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  json j = json::parse(read_file(dir + "/results.json"));
  CHECK(j["max_steps"] == 3);
  CHECK(j["eval_limit"] == 5);
  for (const json& job : j["jobs"]) {
    std::string log = read_file(job["folder"].get<std::string>() + "/train_log.csv");
    CHECK(std::count(log.begin(), log.end(), '\n') == 1 + 3);  // header + 3 steps
  }
  fs::remove_all(dir);
}

TEST_CASE("report sets runs against base-model size, with the study at 124 M", "[reproduce]") {
  std::string run = fresh_dir("report_run"), out = fresh_dir("report_out");
  REQUIRE(
      test::run_lorasum("reproduce --preset smoke --seeds 2 --max-steps 2 --out " + run).status ==
      0);
  test::CliResult r = test::run_lorasum("report --runs " + run + " --out " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  json scale = json::parse(read_file(out + "/scale.json"));
  json results = json::parse(read_file(run + "/results.json"));
  json config = json::parse(read_file(run + "/base-model/config.json"));
  // GPT-2's parameters by hand: embeddings (V + P)·C, per block 12C² + 13C, final norm 2C.
  double c = config["n_embd"], v = config["vocab_size"], p = config["n_positions"];
  double blocks = config["n_layer"].get<double>() * (12 * c * c + 13 * c);
  REQUIRE(scale["runs"].size() == 1);
  CHECK(scale["runs"][0]["parameters"] == (v + p) * c + blocks + 2 * c);
  CHECK(scale["runs"][0]["block_parameters"] == blocks);
  CHECK(scale["study"]["parameters"] == 124439808.0);  // GPT-2 Small
  for (const json& pair : results["pairs"]) {
    std::string label =
        pair["domains"][0].get<std::string>() + "+" + pair["domains"][1].get<std::string>();
    CHECK(scale["runs"][0]["pairs"][label]["change_pct"] == pair["change_pct"]);
    CHECK(scale["runs"][0]["pairs"][label]["rms_cos"] == pair["rms_cos"]);
  }
  CHECK_THAT(read_file(out + "/scale.md"),
             Catch::Contains("| the study (one run) | gpt2-small | 1 | 124.44 M"));
  // The settings the runs share head the report; the preset and base model are in its rows.
  CHECK_THAT(read_file(out + "/scale.md"),
             Catch::Contains("**Cut short (" + run + ": --max-steps 2)") &&
                 Catch::Contains("\n- seeds: 2\n- hyperparameters: uniform\n") &&
                 !Catch::Contains("- preset:"));
  CHECK(read_file(out + "/plots/scale.svg").find("the study, math+medicine: -9.10 %") !=
        std::string::npos);
  CHECK(fs::exists(out + "/plots/scale_cos.svg"));
  CHECK(scale["runs"][0]["random_rms_cos"] == results["random_baseline_rms_cos"]["mean"]);
  CHECK_THAT(read_file(out + "/report.html"), Catch::Contains("<svg") && Catch::Contains("+27.56"));
  test::CliResult bad = test::run_lorasum("report --runs " + out + " --out " + out + "/again");
  CHECK(bad.status == 2);
  CHECK_THAT(bad.err, Catch::Contains(out + ": no results.json"));
  fs::remove_all(run);
  fs::remove_all(out);
}

TEST_CASE("report refuses runs that differ in more than their base models", "[reproduce]") {
  std::string a = fresh_dir("report_mixed_a"), b = fresh_dir("report_mixed_b"),
              c = fresh_dir("report_mixed_c"), out = fresh_dir("report_mixed_out");
  const std::string smoke = "reproduce --preset smoke --seeds 1 --eval-limit 4 --max-steps ";
  REQUIRE(test::run_lorasum(smoke + "2 --out " + a).status == 0);
  REQUIRE(test::run_lorasum(smoke + "3 --out " + b).status == 0);
  test::CliResult mixed = test::run_lorasum("report --runs " + a + " " + b + " --out " + out);
  CHECK(mixed.status == 2);
  CHECK_THAT(mixed.err, Catch::Contains("max_steps: " + a + " has 2, " + b + " has 3"));
  CHECK_FALSE(fs::exists(out + "/scale.md"));  // nothing half-written

  // The same run under another name agrees with itself; with one data file changed it does not.
  fs::create_directories(c);
  fs::copy(a + "/results.json", c + "/results.json");
  CHECK(test::run_lorasum("report --runs " + a + " " + c + " --out " + out).status == 0);
  json results = json::parse(read_file(c + "/results.json"));
  REQUIRE(results["data"].contains("math/test"));
  results["data"]["math/test"] = "0000000000000000";
  write_file_atomic(c + "/results.json", results.dump());
  test::CliResult data = test::run_lorasum("report --runs " + a + " " + c + " --out " + out);
  CHECK(data.status == 2);
  CHECK_THAT(data.err, Catch::Contains("data.math/test: " + a + " has") &&
                           Catch::Contains(c + " has \"0000000000000000\""));

  test::CliResult allowed =
      test::run_lorasum("report --runs " + a + " " + b + " --allow-mixed --out " + out);
  INFO(allowed.err);
  REQUIRE(allowed.status == 0);
  CHECK_THAT(read_file(out + "/scale.md"), Catch::Contains("- max_steps: " + a + " has 2"));
  CHECK(json::parse(read_file(out + "/scale.json"))["differences"].size() == 1);
  for (const std::string& dir : {a, b, c, out}) fs::remove_all(dir);
}

TEST_CASE("the gpt2-shallow and mid presets plan 3 layers at GPT-2 Small's width and at half of it",
          "[reproduce]") {
  const std::pair<std::string, std::string> rungs[] = {
      {"gpt2-shallow", " --n-layer 3 --n-head 12 --n-embd 768 "},
      {"mid", " --n-layer 3 --n-head 6 --n-embd 384 "}};
  for (const auto& [preset, shape] : rungs) {
    INFO(preset);
    std::string dir = fresh_dir("reproduce_" + preset + "_plan");
    test::CliResult plan =
        test::run_lorasum("reproduce --preset " + preset + " --seeds 1 --plan --out " + dir);
    INFO(plan.err);
    REQUIRE(plan.status == 0);
    std::istringstream lines(plan.out);
    std::string first;
    std::getline(lines, first);
    CHECK_THAT(first, Catch::Contains(" pretrain ") && Catch::Contains(" --vocab-size 8192 ") &&
                          Catch::Contains(shape) && Catch::Contains(" --n-positions 256 "));
    CHECK_THAT(plan.out, Catch::Contains("\n# estimated total: "));
    fs::remove_all(dir);
  }
}

TEST_CASE("results.md is headed by every setting that changes its figures", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_header");
  test::CliResult r = test::run_lorasum(
      "reproduce --preset smoke --seeds 1 --no-progress --max-steps 2 --eval-limit 4 --lr 0.002 "
      "--batching random --only math+medicine --study-choices shared-init --jobs 1 --out " +
      dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  // The jobs run in this one process: math's truncation note once, not once per job reading it.
  std::string note = " examples in " + dir + "/data/math/train.jsonl were truncated";
  CHECK(r.err.find(note) != std::string::npos);
  CHECK(r.err.find(note) == r.err.rfind(note));
  std::string md = read_file(dir + "/results.md");
  CHECK_THAT(md, Catch::StartsWith("# lorasum reproduce — preset smoke (cut short)\n\n**Cut short "
                                   "(--max-steps 2, --eval-limit 4): these are not the figures "
                                   "of a full run.**\n\n- preset: smoke\n- base model: pretrained "
                                   "by the run on the generated corpus (2 layers × 32 wide, 96 "
                                   "positions, "));
  for (const char* line : {"\n- data: generated\n- seeds: 1\n- hyperparameters: uniform\n",
                           "\n- adapter learning rate: 0.002 (--lr)\n- batching: random\n",
                           "\n- LoRA: r = 4, alpha = ", "\n- study choices: shared-init\n",
                           "\n- results: only math+medicine (--only)\n",
                           "\n- cut short: --max-steps 2, --eval-limit 4\n"})
    CHECK_THAT(md, Catch::Contains(line));
  CHECK_THAT(r.out, Catch::Contains("Cut short (--max-steps 2, --eval-limit 4)"));
  // The same run in full says neither.
  test::CliResult full = test::run_lorasum(
      "reproduce --preset smoke --seeds 1 --no-progress --only math+medicine --out " + dir);
  REQUIRE(full.status == 0);
  std::string whole = read_file(dir + "/results.md");
  CHECK_THAT(whole, !Catch::Contains("ut short") && Catch::Contains("- batching: by-length\n") &&
                        Catch::Contains("- study choices: none\n"));
  CHECK_THAT(whole, Catch::Contains("\n- adapter learning rate: ") && !Catch::Contains("(--lr)"));
  fs::remove_all(dir);
}

TEST_CASE("a fit over fewer than 3 points is n/a, not a number", "[reproduce]") {
  std::string dir = fresh_dir("reproduce_fit_points");
  const std::string smoke = "reproduce --preset smoke --no-progress --max-steps 2 --eval-limit 4 ";
  test::CliResult one = test::run_lorasum(smoke + "--seeds 1 --only math+medicine --out " + dir);
  INFO(one.err);
  REQUIRE(one.status == 0);
  json j = json::parse(read_file(dir + "/results.json"));
  CHECK(j["fit"].is_null());  // 1 point
  CHECK(j["fit_all"].is_null());
  std::string md = read_file(dir + "/results.md");
  CHECK_THAT(md, Catch::Contains("- pairs: n/a (1 points; a fit needs at least 3)"));
  CHECK_FALSE(fs::exists(dir + "/plots/change_vs_cosine.svg"));
  // The report of such a run: n/a in its fit column too.
  std::string out = fresh_dir("reproduce_fit_points_report");
  REQUIRE(test::run_lorasum("report --runs " + dir + " --out " + out).status == 0);
  CHECK_THAT(read_file(out + "/scale.md"), Catch::Contains(" | n/a |\n| the study"));

  // The triple alone: no pair, so no pair table, and no fit over 0 pairs.
  test::CliResult triple = test::run_lorasum(smoke + "--seeds 1 --only triple --out " + dir);
  REQUIRE(triple.status == 0);
  j = json::parse(read_file(dir + "/results.json"));
  CHECK(j["fit"].is_null());
  CHECK(j["fit_all"].is_null());  // the triple's one point (its variants need the pairs)
  md = read_file(dir + "/results.md");
  CHECK_THAT(md, !Catch::Contains("Pairwise sums") && Catch::Contains("### Triple") &&
                     Catch::Contains("- pairs: n/a (0 points; a fit needs at least 3)"));

  // Three seeds of a pair: a fit, and its plot.
  REQUIRE(test::run_lorasum(smoke + "--seeds 3 --only math+medicine --out " + dir).status == 0);
  j = json::parse(read_file(dir + "/results.json"));
  CHECK(j["fit"]["points"] == 3);
  CHECK(j["fit"]["pearson_r"].is_number());
  CHECK(fs::exists(dir + "/plots/change_vs_cosine.svg"));
  fs::remove_all(dir);
  fs::remove_all(out);
}

TEST_CASE("report refuses a run given twice and an output inside a run, summarises --only",
          "[reproduce]") {
  std::string full = fresh_dir("report_edges_full"), only = fresh_dir("report_edges_only"),
              out = fresh_dir("report_edges_out");
  const std::string smoke = "reproduce --preset smoke --seeds 1 --no-progress --max-steps 2 ";
  REQUIRE(test::run_lorasum(smoke + "--out " + full).status == 0);
  REQUIRE(test::run_lorasum(smoke + "--only math+medicine --out " + only).status == 0);
  test::expect_refused("report --runs " + full + " " + full + "/ --out " + out,
                       {"--runs " + full + "/ is given twice"}, out);
  test::expect_refused("report --runs " + full + " --out " + full + "/plots",
                       {"--out " + full + "/plots is inside the run " + full},
                       full + "/plots/plots");
  test::expect_refused("report --runs " + full + " --out " + full, {"is inside the run"});
  test::CliResult mixed =
      test::run_lorasum("report --runs " + full + " " + only + " --allow-mixed --out " + out);
  INFO(mixed.err);
  REQUIRE(mixed.status == 0);
  json differences = json::parse(read_file(out + "/scale.json"))["differences"];
  // --only, and the jobs the full run trained alone: not a line for each of their settings.
  CHECK(differences.size() == 2);
  CHECK_THAT(differences.dump(),
             Catch::Contains("only: ") && Catch::Contains("training: only " + full + " trained "));
  for (const std::string& dir : {full, only, out}) fs::remove_all(dir);
}
