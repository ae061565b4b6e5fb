// Run folders you can trust: work is reused only when the settings that made it are identical,
// a differing record stops the run naming the setting, results.json lists every job as trained,
// one process at a time, and each result (a pair, the triple, the ablation) runs on its own.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tensor/io/file_io.h"
#include "tensor/io/folder_lock.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;
using test::fresh_dir;

namespace {

test::CliResult reproduce(const std::string& dir, const std::string& extra = "") {
  return test::run_lorasum("reproduce --preset smoke --seeds 1 --no-progress --out " + dir + " " +
                           extra);
}

json results(const std::string& dir) { return json::parse(read_file(dir + "/results.json")); }

json job_named(const json& r, const std::string& name) {
  for (const json& j : r["jobs"])
    if (j["name"] == name) return j;
  FAIL("no job " << name);
  return {};
}

}  // namespace

TEST_CASE("a run folder reuses work only when its settings are identical", "[run-folders]") {
  std::string dir = fresh_dir("run_folder_reuse");
  REQUIRE(reproduce(dir).status == 0);
  json uniform = results(dir);
  std::string math = job_named(uniform, "seed0/math")["folder"];
  auto written = fs::last_write_time(math + "/adapter_model.safetensors");

  // The user's probe: --hparams study in the same folder must train, not print the old figures.
  test::CliResult study = reproduce(dir, "--hparams study --lr 1e-4");
  INFO(study.err);
  REQUIRE(study.status == 0);
  json s = results(dir);
  CHECK(s["hparams"] == "study");
  CHECK(s["pairs"] != uniform["pairs"]);
  json m = job_named(s, "seed0/math"), mm = job_named(s, "seed0/math+medicine");
  CHECK(m["folder"] != math);
  CHECK(m["lr"] == 1e-4);  // --lr applies to the study's hyperparameters too
  CHECK(m["batch"] == 16);
  CHECK(m["warmup"] == 2);  // the study's singles: warm-up 2, weight decay 0.01
  CHECK(m["weight_decay"] == 0.01);
  CHECK(m["dropout"] == 0.1);
  CHECK(m["seq_len"] == 64);
  CHECK(mm["batch"] == 8);  // its log's step count, not its script's 4
  CHECK(mm["epochs"] == 2);
  CHECK(mm["warmup"] == 0);  // merged-data runs: Trainer defaults
  CHECK(mm["weight_decay"] == 0.0);
  json record = json::parse(read_file(m["folder"].get<std::string>() + "/settings.json"));
  CHECK(record["train"]["lr"] == 1e-4);
  CHECK(record["train"]["warmup"] == 2);

  // Back to uniform: the first run's jobs are found again, untouched, with the same figures.
  REQUIRE(reproduce(dir).status == 0);
  CHECK(fs::last_write_time(math + "/adapter_model.safetensors") == written);
  CHECK(results(dir)["pairs"] == uniform["pairs"]);
  fs::remove_all(dir);
}

TEST_CASE("a differing settings record stops the run naming the setting", "[run-folders]") {
  std::string dir = fresh_dir("run_folder_mismatch");
  REQUIRE(reproduce(dir).status == 0);
  std::string math = results(dir)["jobs"][0]["folder"];
  json record = json::parse(read_file(math + "/settings.json"));
  record["train"]["lr"] = 0.5;
  write_file_atomic(math + "/settings.json", record.dump());
  test::CliResult r = reproduce(dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("train.lr") && Catch::Contains(math));

  // Other data in the same folder: the prepared data's record names what differs.
  std::string other = fresh_dir("run_folder_other_data");
  fs::copy(dir + "/data", other, fs::copy_options::recursive);
  test::CliResult data = reproduce(dir, "--data " + other);
  CHECK(data.status == 2);
  CHECK_THAT(data.err, Catch::Contains("source") && Catch::Contains(dir + "/data"));
  fs::remove_all(dir);
  fs::remove_all(other);
}

TEST_CASE("train --resume checks the folder's settings", "[run-folders]") {
  test::TinySetup setup("resume_settings");
  std::string out = setup.path("adapter");
  std::string base = "train --model " + setup.model() + " --data " + setup.data() + " --out " +
                     out + " --max-steps 2 --seed 1 --no-progress --resume";
  REQUIRE(test::run_lorasum(base + " --lr 1e-3").status == 0);
  auto written = fs::last_write_time(out + "/adapter_model.safetensors");
  test::CliResult again = test::run_lorasum(base + " --lr 1e-3");
  CHECK(again.status == 0);
  CHECK_THAT(again.err, Catch::Contains("nothing to do"));
  CHECK(fs::last_write_time(out + "/adapter_model.safetensors") == written);
  test::CliResult other = test::run_lorasum(base + " --lr 5e-3");
  CHECK(other.status == 2);
  CHECK_THAT(other.err, Catch::Contains("train.lr"));
}

TEST_CASE("one reproduce at a time per run folder, a killed holder does not leave it stuck",
          "[run-folders]") {
  std::string dir = fresh_dir("run_folder_lock");
  {
    FolderLock held(dir);
    test::CliResult r = reproduce(dir);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("in use by another lorasum process"));
    CHECK(!fs::exists(dir + "/results.json"));
  }
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  if (child == 0) {
    FolderLock mine(dir);
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  char byte = 0;
  REQUIRE(read(ready[0], &byte, 1) == 1);  // the child holds the lock now
  CHECK_THROWS_WITH(FolderLock(dir), Catch::Contains("in use"));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  CHECK_NOTHROW(FolderLock(dir));
  close(ready[0]);
  close(ready[1]);
  fs::remove_all(dir);
}

TEST_CASE("reproduce leaves the base model's staging folder to the pretraining writing it",
          "[run-folders]") {
  std::string dir = fresh_dir("run_folder_staging");
  test::CliResult plan = reproduce(dir, "--plan");
  REQUIRE(plan.status == 0);
  // The plan's first line, pretraining, run apart from reproduce as the plan's scripts run it,
  // and paused with its new model in the staging folder <run>/.base-model.tmpN.
  std::istringstream line(plan.out.substr(0, plan.out.find('\n')));
  std::vector<std::string> args;
  for (std::string word; line >> word;) args.push_back(word);
  args.erase(args.begin());  // the program
  test::Spawned pretrain =
      test::spawn_lorasum(args, {"LORASUM_TEST_PAUSE_WRITE=model.safetensors"});
  REQUIRE_THAT(test::read_until(pretrain, "into place"), Catch::Contains("test pause"));
  auto stagings = [&] {
    int n = 0;
    for (const auto& entry : fs::directory_iterator(dir))
      n += is_temporary_name(entry.path().filename().string(), "base-model");
    return n;
  };
  REQUIRE(stagings() == 1);
  CHECK(reproduce(dir, "--plan").status == 0);  // holds the run folder and sweeps it
  CHECK(stagings() == 1);  // not its own: the pretraining holds base-model's lock
  kill(pretrain.pid, SIGKILL);
  CHECK(test::wait_lorasum(pretrain) == 128 + SIGKILL);
  CHECK(reproduce(dir, "--plan").status == 0);
  CHECK(stagings() == 0);  // left by a killed writer: removed under base-model's lock
  fs::remove_all(dir);
}

TEST_CASE("reproduce's only option runs just what one result needs", "[run-folders]") {
  std::string dir = fresh_dir("run_folder_only");
  test::CliResult r = reproduce(dir, "--only math+medicine");
  INFO(r.err);
  REQUIRE(r.status == 0);
  json j = results(dir);
  CHECK(j["jobs"].size() == 3);  // math, medicine, math+medicine
  REQUIRE(j["pairs"].size() == 1);
  CHECK(j["pairs"][0]["domains"] == json{"math", "medicine"});
  CHECK(j["pairs"][0]["sum_by_domain"]["medicine"]["mean"].get<double>() > 1.0);
  CHECK(j["triple"].is_null());
  test::CliResult t = reproduce(dir, "--only triple");
  REQUIRE(t.status == 0);
  json k = results(dir);
  CHECK(k["jobs"].size() == 4);  // the singles and the all-three merged run
  CHECK(k["pairs"].empty());
  CHECK(k["triple"]["change_pct"].is_number());
  CHECK(reproduce(dir, "--only math+algebra").status == 2);
  fs::remove_all(dir);
}

TEST_CASE("reproduce --ablation at smoke size writes every configuration", "[run-folders]") {
  std::string dir = fresh_dir("run_folder_ablation");
  test::CliResult r =
      test::run_lorasum("reproduce --preset smoke --seeds 2 --no-progress --ablation --out " + dir);
  INFO(r.err);
  REQUIRE(r.status == 0);
  json a = json::parse(read_file(dir + "/ablation.json"));
  REQUIRE(a["configurations"].size() == 9);  // none, the seven choices alone, all
  CHECK(a["configurations"][0]["choices"].empty());
  CHECK(a["configurations"][8]["choices"].size() == 7);
  for (const json& c : a["configurations"]) {
    CHECK(c["pairs"].size() == 3);
    CHECK(c["triple"]["change_pct"].is_number());
    std::string label = c["label"];
    CHECK(results(dir + "/ablation/" + label)["study_choices"] == c["choices"]);
  }
  std::string csv = read_file(dir + "/ablation.csv");
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 9 * 4 * 2);
  CHECK_THAT(read_file(dir + "/ablation.md"),
             Catch::Contains("study (GPT-2 Small)") &&
                 Catch::StartsWith("# Ablation of the study's choices\n\n- preset: smoke\n") &&
                 Catch::Contains("\n- seeds: 2\n") &&
                 Catch::Contains("\n- study choices: one configuration a row: none, each "
                                 "choice alone, all\n"));
  CHECK_THAT(read_file(dir + "/plots/ablation.svg"), Catch::Contains("</svg>"));
  // Configurations share the jobs a choice does not change: 32 distinct jobs per seed, not 63.
  size_t jobs = 0;
  for (auto& e : fs::directory_iterator(dir + "/seed0")) jobs += e.is_directory();
  CHECK(jobs == 32);
  // A rerun reuses all 64 and says that it replaced the ablation of the same settings.
  test::CliResult again =
      test::run_lorasum("reproduce --preset smoke --seeds 2 --no-progress --ablation --out " + dir);
  CHECK_THAT(again.err, Catch::Contains("adapter jobs: 64 reused, 0 resumed, 0 trained\n") &&
                            Catch::Contains(dir + "/ablation.md: replaced the results of an "
                                                  "earlier run with the same settings"));
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint resumes only with the settings that wrote it", "[run-folders]") {
  test::TinySetup setup("resume_checkpoint");
  std::string out = setup.path("adapter");
  std::string other =
      setup.write("other.jsonl", "{\"question\": \"Why?\", \"answer\": \"Because.\"}\n");
  auto train = [&](const std::string& extra) {
    return test::run_lorasum("train --model " + setup.model() + " --out " + out +
                             " --checkpoint-every 1 --max-steps 5 --no-progress " + extra);
  };
  // A learning rate of 1e30 diverges at step 2 and keeps the step-1 checkpoint.
  std::string made = "--data " + setup.data() + " --lr 1e30 --seed 0 --alpha 64";
  REQUIRE(train(made).status == 2);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  std::string data = " --data " + setup.data(), resume = " --resume";
  const std::pair<std::string, const char*> changes[] = {
      {data + " --lr 1e-3 --seed 0 --alpha 64" + resume, "train.lr"},
      {data + " --lr 1e30 --seed 0 --alpha 8" + resume, "lora.alpha"},
      {data + " --lr 1e30 --seed 5 --alpha 64" + resume, "train.seed"},
      {" --data " + other + " --lr 1e30 --seed 0 --alpha 64" + resume, "data"}};
  for (const auto& [args, setting] : changes) {
    test::CliResult r = train(args);
    INFO(args << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(setting) && Catch::Contains("checkpoint.safetensors"));
  }
  // An output folder that cannot be written is refused before any training.
  test::CliResult r =
      test::run_lorasum("train --model " + setup.model() + " --data " + setup.data() +
                        " --out /proc/lorasum_no_such --no-progress");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("/proc/lorasum_no_such"));
}

TEST_CASE("train refuses to discard an interrupted run's checkpoint unless told to",
          "[run-folders]") {
  test::TinySetup setup("checkpoint_kept");
  std::string out = setup.path("adapter");
  std::string train = "train --model " + setup.model() + " --data " + setup.data() + " --out " +
                      out + " --checkpoint-every 1 --max-steps 3 --no-progress ";
  // A learning rate of 1e30 diverges at step 2 and keeps the step-1 checkpoint.
  REQUIRE(test::run_lorasum(train + "--lr 1e30").status == 2);
  REQUIRE(fs::exists(out + "/checkpoint.safetensors"));
  auto written = fs::last_write_time(out + "/checkpoint.safetensors");
  test::CliResult fresh = test::run_lorasum(train + "--lr 1e-3");
  CHECK(fresh.status == 2);
  CHECK_THAT(fresh.err, Catch::Contains(out + " holds a checkpoint at step 1 of an interrupted "
                                              "run: --resume to continue, --force to start over"));
  CHECK(fs::last_write_time(out + "/checkpoint.safetensors") == written);
  CHECK(test::run_lorasum(train + "--lr 1e-3 --resume --force").status == 2);
  test::CliResult over = test::run_lorasum(train + "--lr 1e-3 --force");
  INFO(over.err);
  CHECK(over.status == 0);
  CHECK_THAT(over.out, Catch::Contains("steps: 3"));
  CHECK_FALSE(fs::exists(out + "/checkpoint.safetensors"));

  // Interrupted with a checkpoint on disk: the message says how to continue from it.
  std::string again = setup.path("again");
  std::vector<std::string> args = {"train",
                                   "--model",
                                   setup.model(),
                                   "--data",
                                   setup.data(),
                                   "--out",
                                   again,
                                   "--lr",
                                   "1e-3",
                                   "--max-steps",
                                   "3",
                                   "--no-progress",
                                   "--checkpoint-every",
                                   "1"};
  test::Spawned p =
      test::spawn_lorasum(args, {"LORASUM_TEST_PAUSE_WRITE=adapter_model.safetensors"});
  REQUIRE_THAT(test::read_until(p, "into place"), Catch::Contains("test pause"));
  kill(p.pid, SIGINT);
  std::string said = test::read_until(p, "");
  CHECK(test::wait_lorasum(p) == 130);
  CHECK_THAT(said, Catch::Contains("kept in " + again +
                                   ": checkpoint.safetensors (rerun with "
                                   "--resume to continue from its "
                                   "checkpoint)"));
}

TEST_CASE("reproduce names its run folder by the settings that change the figures",
          "[run-folders]") {
  std::string cwd = fresh_dir("run_folder_default");
  fs::create_directories(cwd);
  auto plan = [&](const std::string& extra) {
    return test::run_shell("cd " + test::quoted(cwd) + " && " + LORASUM_BINARY +
                           " reproduce --preset smoke --seeds 1 --no-progress --plan " + extra);
  };
  test::CliResult first = plan(""), other = plan("--lr 1e-3"), same = plan("");
  INFO(first.err << other.err);
  REQUIRE(first.status == 0);
  REQUIRE(other.status == 0);
  std::vector<std::string> folders;
  for (const auto& entry : fs::directory_iterator(cwd + "/runs"))
    folders.push_back(entry.path().filename().string());
  REQUIRE(folders.size() == 2);  // the same settings found their folder again
  for (const std::string& f : folders) {
    CHECK_THAT(f, Catch::StartsWith("smoke-"));
    CHECK(f.size() == 6 + 8);  // smoke- and 8 hex digits
    CHECK((first.err.find("run folder: runs/" + f) != std::string::npos) !=
          (other.err.find("run folder: runs/" + f) != std::string::npos));
  }
  CHECK(same.err == first.err);
  fs::remove_all(cwd);
}

TEST_CASE("a rerun says what it reused, resumed and trained, and what results it replaced",
          "[run-folders]") {
  std::string dir = fresh_dir("run_folder_outcomes");
  test::CliResult plan = reproduce(dir, "--max-steps 2 --plan");
  REQUIRE(plan.status == 0);
  // Runs the pretraining, and the first adapter job up to its checkpoint at step 1: stopped
  // (SIGKILL) while its finished adapter waits to be renamed into place.
  std::vector<std::vector<std::string>> commands;
  std::istringstream lines(plan.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    commands.emplace_back();
    for (std::string w; words >> w;) commands.back().push_back(w);
    commands.back().erase(commands.back().begin());  // the program
  }
  REQUIRE(commands.size() == 8);
  REQUIRE(test::run_shell(plan.out.substr(0, plan.out.find('\n'))).status == 0);
  std::vector<std::string> job = commands[1];
  job.insert(job.end(), {"--checkpoint-every", "1"});
  test::Spawned first =
      test::spawn_lorasum(job, {"LORASUM_TEST_PAUSE_WRITE=adapter_model.safetensors"});
  REQUIRE_THAT(test::read_until(first, "into place"), Catch::Contains("test pause"));
  kill(first.pid, SIGKILL);
  test::wait_lorasum(first);
  std::string folder = job[std::find(job.begin(), job.end(), "--out") - job.begin() + 1];

  test::CliResult run = reproduce(dir, "--max-steps 2");
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.err, Catch::Contains(folder + ": resumed from step 1\n"));
  CHECK_THAT(run.err, Catch::Contains("adapter jobs: 0 reused, 1 resumed, 6 trained\n"));
  CHECK_THAT(run.err, !Catch::Contains("replaced"));
  test::CliResult again = reproduce(dir, "--max-steps 2");
  CHECK_THAT(again.err, Catch::Contains(folder + ": reused\n"));
  CHECK_THAT(again.err, Catch::Contains("adapter jobs: 7 reused, 0 resumed, 0 trained\n"));
  CHECK_THAT(again.err, Catch::Contains(dir + "/results.md: replaced the results of an earlier "
                                              "run with the same settings"));
  test::CliResult other = reproduce(dir, "--max-steps 3");
  CHECK_THAT(other.err, Catch::Contains(dir + "/results.md: replaced the results of an earlier "
                                              "run made with other settings (cut short: "
                                              "--max-steps 2 → --max-steps 3)"));
  fs::remove_all(dir);
}

TEST_CASE("reproduce removes the staging folders killed job writers left in a finished run",
          "[run-folders]") {
  std::string dir = fresh_dir("run_folder_job_staging");
  REQUIRE(reproduce(dir, "--max-steps 2 --only math+medicine").status == 0);
  std::string job = results(dir)["jobs"][0]["folder"];
  fs::path seed = fs::path(job).parent_path();
  // What a writer killed after swapping in its new contents leaves: the old ones, under the
  // staging name. The job itself is finished, so the rerun only reuses it.
  std::string staging =
      fmt::format("{}/.{}.tmp4242", seed.string(), fs::path(job).filename().string());
  fs::create_directories(staging);
  write_file_atomic(staging + "/adapter_model.safetensors", "old");
  {
    FolderLock writing(job);  // a live writer's: left alone
    REQUIRE(reproduce(dir, "--max-steps 2 --only math+medicine").status == 0);
    CHECK(fs::exists(staging));
  }
  REQUIRE(reproduce(dir, "--max-steps 2 --only math+medicine").status == 0);
  CHECK_FALSE(fs::exists(staging));
  fs::remove_all(dir);
}
