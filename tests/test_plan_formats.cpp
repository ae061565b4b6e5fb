// reproduce --plan --format parallel|slurm: the scripts run (GNU parallel here; Slurm through
// a stand-in sbatch) and end in reproduce --evaluate-only, which trains nothing.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tensor/io/folder_lock.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
using nlohmann::json;
using test::fresh_dir;

namespace {

const std::string kSmoke = "reproduce --preset smoke --seeds 1 --no-progress";

// Runs a shell command line; returns its exit status, with its output in `log`.
int shell(const std::string& command, const std::string& log) {
  std::string line = command + " >" + test::quoted(log) + " 2>&1 </dev/null";
  return test::shell_status(std::system(line.c_str()));
}

// The lines of `text` that are not comments (the jobs of a shell-format plan).
std::vector<std::string> command_lines(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

// The folder a command writes: the word after its --out.
std::string out_of(const std::string& command) {
  std::istringstream words(command);
  for (std::string w; words >> w;)
    if (w == "--out" && words >> w) return w;
  return "";
}

std::string plan_of(const std::string& flags, const std::string& dir) {
  test::CliResult plan = test::run_lorasum(flags + " --plan --out " + dir);
  INFO(plan.err);
  REQUIRE(plan.status == 0);
  return plan.out;
}

// A stand-in for sbatch in `bin`: each call N saves its arguments to sbatch.N.args and its
// batch script (stdin) to sbatch.N.sh, and prints the id 100N as `sbatch --parsable` does on a
// federated cluster ("id;cluster").
void fake_sbatch(const std::string& bin) {
  fs::create_directories(bin);
  std::string script = "#!/usr/bin/env bash\nset -eu\ndir=" + test::quoted(bin) +
                       "\n"
                       "n=$(( $(cat \"$dir/count\" 2>/dev/null || echo 0) + 1 ))\n"
                       "echo \"$n\" >\"$dir/count\"\n"
                       "printf '%s\\n' \"$@\" >\"$dir/sbatch.$n.args\"\n"
                       "cat >\"$dir/sbatch.$n.sh\"\n"
                       "echo \"100$n;cluster\"\n";
  write_file_atomic(bin + "/sbatch", script);
  fs::permissions(bin + "/sbatch", fs::perms::owner_all);
  // srun starts the tasks of a step: here as many MPI ranks on this machine, noted in a file.
  std::string srun = "#!/usr/bin/env bash\nset -eu\necho \"$SLURM_NTASKS $*\" >" +
                     test::quoted(bin + "/srun.args") +
                     "\n"
                     "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1\n"
                     "exec mpirun --oversubscribe --bind-to none --mca "
                     "btl_vader_single_copy_mechanism none -np \"$SLURM_NTASKS\" \"$@\"\n";
  write_file_atomic(bin + "/srun", srun);
  fs::permissions(bin + "/srun", fs::perms::owner_all);
}

}  // namespace

TEST_CASE("the parallel plan, two jobs at once, gives the bits of an in-process run",
          "[reproduce][plan]") {
  if (std::system("command -v parallel >/dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: GNU parallel not found\n";
    return;
  }
  std::string dir = fresh_dir("plan_parallel"), other = fresh_dir("plan_parallel_in_process");
  std::string script = dir + ".sh", log = dir + ".log";
  std::string text = plan_of(kSmoke + " --format parallel", dir);
  CHECK_THAT(text, Catch::StartsWith("#!/usr/bin/env bash\n") &&
                       Catch::Contains("\nset -euo pipefail\n") &&
                       Catch::Contains("\nparallel --halt now,fail=1 -j \"$JOBS\" ") &&
                       Catch::Contains(" pretrain ") && Catch::Contains("# estimated total: "));
  std::string evaluate = " reproduce --preset smoke --out " + dir + " --seeds 1 --no-progress";
  CHECK_THAT(command_lines(text).back(), Catch::EndsWith(evaluate + " --evaluate-only"));
  write_file_atomic(script, text);
  int status = shell("JOBS=2 bash " + test::quoted(script), log);
  INFO(read_file(log));
  REQUIRE(status == 0);
  std::string joblog = read_file(dir + "/logs/parallel.joblog");
  CHECK(std::count(joblog.begin(), joblog.end(), '\n') == 1 + 7);  // a header and the 7 jobs
  CHECK(command_lines(plan_of(kSmoke, dir)).empty());              // nothing left to train

  test::CliResult in_process = test::run_lorasum(kSmoke + " --out " + other);
  INFO(in_process.err);
  REQUIRE(in_process.status == 0);
  json a = json::parse(read_file(dir + "/results.json"));
  json b = json::parse(read_file(other + "/results.json"));
  REQUIRE(a["pairs"].size() == 3);
  REQUIRE(a["jobs"].size() == 7);
  CHECK(a["pairs"] == b["pairs"]);  // change_pct, rms_cos and the perplexities, to the bit
  CHECK(a["triple"] == b["triple"]);
  CHECK(a["singles"] == b["singles"]);
  for (const json& job : a["jobs"]) {
    fs::path folder = job["folder"].get<std::string>();
    std::string twin = other + "/" + folder.parent_path().filename().string() + "/" +
                       folder.filename().string();  // the same settings, the same digest
    INFO(folder);
    CHECK(read_file(folder.string() + "/adapter_model.safetensors") ==
          read_file(twin + "/adapter_model.safetensors"));
  }
  for (const std::string& path : {dir, other, script, log}) fs::remove_all(path);
}

TEST_CASE("the slurm plan submits pretraining, an array of the jobs, then the evaluation",
          "[reproduce][plan]") {
  std::string dir = fresh_dir("plan_slurm"), bin = fresh_dir("plan_slurm_bin");
  std::string script = dir + ".sh", log = dir + ".log";
  std::string text = plan_of(kSmoke + " --max-steps 2 --format slurm", dir);
  write_file_atomic(script, text);
  REQUIRE(shell("bash -n " + test::quoted(script), log) == 0);
  // The shell plan's lines: pretraining, then the adapter jobs.
  size_t jobs = command_lines(plan_of(kSmoke + " --max-steps 2", dir)).size() - 1;
  REQUIRE(jobs == 7);
  // The evaluation waits for the jobs to end, however they end, and names one that failed; a
  // failed pretraining cancels the jobs rather than leaving them pending.
  CHECK_THAT(text, Catch::Contains("--array=0-6 ") &&
                       Catch::Contains("--dependency=afterok:\"$pretrain\"") &&
                       Catch::Contains("--kill-on-invalid-dep=yes") &&
                       Catch::Contains("--dependency=afterany:\"$adapters\"") &&
                       Catch::Contains("--evaluate-only\n") && Catch::Contains("srun") &&
                       Catch::Contains("JOB_TIME="));

  fake_sbatch(bin);
  int status = shell("PATH=" + test::quoted(bin) + ":\"$PATH\" bash " + test::quoted(script), log);
  INFO(read_file(log));
  REQUIRE(status == 0);
  CHECK_THAT(read_file(log),
             Catch::Contains("submitted: pretrain 1001 adapters 1002 evaluate 1003"));
  std::string pretrain = read_file(bin + "/sbatch.1.args");
  std::string array = read_file(bin + "/sbatch.2.args");
  std::string evaluate = read_file(bin + "/sbatch.3.args");
  CHECK_THAT(pretrain, !Catch::Contains("--dependency") && Catch::Contains("--parsable"));
  CHECK_THAT(array, Catch::Contains("--dependency=afterok:1001\n") &&
                        Catch::Contains("--array=0-6\n") && Catch::Contains("--ntasks=1\n") &&
                        Catch::Contains("/logs/slurm/"));
  CHECK_THAT(evaluate, Catch::Contains("--dependency=afterany:1002\n"));

  // The batch scripts as Slurm would run them, stage by stage; each array task picks its job.
  auto batch = [&](int n, const std::string& env) {
    std::string file = bin + "/sbatch." + std::to_string(n) + ".sh";
    return shell(env + " SLURM_CPUS_PER_TASK=1 bash " + test::quoted(file), log);
  };
  REQUIRE(batch(1, "") == 0);
  // Task 0 as JOB_TASKS=2 makes it: one training over two MPI ranks, started by srun.
  bool mpi = test::no_mpi_reason().empty();
  for (size_t task = 0; task < jobs; ++task) {
    INFO("task " << task << ": " << read_file(log));
    std::string ranks =
        task == 0 && mpi ? "PATH=" + test::quoted(bin) + ":\"$PATH\" SLURM_NTASKS=2 " : "";
    REQUIRE(batch(2, ranks + "SLURM_ARRAY_TASK_ID=" + std::to_string(task)) == 0);
  }
  if (mpi)
    CHECK_THAT(read_file(bin + "/srun.args"),
               Catch::StartsWith("2 ") && Catch::Contains(" train "));
  CHECK(command_lines(plan_of(kSmoke + " --max-steps 2", dir)).empty());  // 7 tasks: all done
  INFO(read_file(log));
  REQUIRE(batch(3, "") == 0);
  CHECK(fs::exists(dir + "/results.json"));
  for (const std::string& path : {dir, bin, script, log}) fs::remove_all(path);
}

TEST_CASE("reproduce --evaluate-only names an unfinished or busy job instead of training it",
          "[reproduce][plan]") {
  std::string dir = fresh_dir("plan_evaluate_only"), log = dir + ".log";
  std::string flags = kSmoke + " --max-steps 2 --out " + dir;
  test::CliResult early = test::run_lorasum(flags + " --evaluate-only");
  CHECK(early.status == 2);
  CHECK_THAT(early.err, Catch::Contains(dir + "/data: the run's data are not prepared yet"));

  std::vector<std::string> commands = command_lines(plan_of(kSmoke + " --max-steps 2", dir));
  REQUIRE(commands.size() == 1 + 7);
  test::CliResult no_model = test::run_lorasum(flags + " --evaluate-only");
  CHECK(no_model.status == 2);
  CHECK_THAT(no_model.err, Catch::Contains(dir + "/base-model: the base model is not trained") &&
                               Catch::Contains(commands[0]));
  for (size_t i = 0; i + 1 < commands.size(); ++i) REQUIRE(shell(commands[i], log) == 0);
  std::string last = out_of(commands.back());
  test::CliResult r = test::run_lorasum(flags + " --evaluate-only");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains(last + ": the job seed0/math+medicine+finance is not "
                                           "finished") &&
                        Catch::Contains(commands.back()));
  CHECK(!fs::exists(last + "/adapter_model.safetensors"));  // nothing trained
  CHECK(!fs::exists(dir + "/results.json"));

  REQUIRE(shell(commands.back(), log) == 0);
  {
    std::string first = out_of(commands[1]);
    FolderLock busy(first);  // as a process retraining that job holds it
    test::CliResult locked = test::run_lorasum(flags + " --evaluate-only");
    CHECK(locked.status == 2);
    CHECK_THAT(locked.err, Catch::Contains(first + " is in use by another lorasum process"));
  }
  test::CliResult done = test::run_lorasum(flags + " --evaluate-only");
  INFO(done.err);
  CHECK(done.status == 0);
  CHECK(fs::exists(dir + "/results.json"));
  fs::remove_all(dir);
  fs::remove_all(log);
}

TEST_CASE("reproduce --format is checked: a known name, and only with --plan",
          "[reproduce][plan]") {
  std::string dir = fresh_dir("plan_format_flags");
  test::CliResult bogus = test::run_lorasum(kSmoke + " --plan --format bogus --out " + dir);
  CHECK(bogus.status == 2);
  CHECK_THAT(bogus.err, Catch::Contains("--format bogus: expected shell, parallel or slurm"));
  test::CliResult alone = test::run_lorasum(kSmoke + " --format parallel --out " + dir);
  CHECK(alone.status == 2);
  CHECK_THAT(alone.err, Catch::Contains("add --plan"));
  test::CliResult both = test::run_lorasum(kSmoke + " --plan --evaluate-only --out " + dir);
  CHECK(both.status == 2);
  CHECK_THAT(both.err, Catch::Contains("--evaluate-only trains nothing"));
  // --format shell is the plain plan: the same commands.
  CHECK(command_lines(plan_of(kSmoke + " --format shell", dir)) ==
        command_lines(plan_of(kSmoke, dir)));
  fs::remove_all(dir);
}
