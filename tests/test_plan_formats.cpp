// reproduce --evaluate-only, which trains nothing: it names an unfinished job instead.
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "tensor/folder_lock.h"
#include "tests/cli_runner.h"

using namespace ls;
namespace fs = std::filesystem;
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

}  // namespace

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
  CHECK_THAT(no_model.err, Catch::Contains(dir + "/base-model: the base model is not trained yet") &&
                               Catch::Contains(commands[0]));
  for (size_t i = 0; i + 1 < commands.size(); ++i) REQUIRE(shell(commands[i], log) == 0);
  std::string last = out_of(commands.back());
  test::CliResult r = test::run_lorasum(flags + " --evaluate-only");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains(last + ": the job seed0/math+medicine+finance is not "
                                           "finished") && Catch::Contains(commands.back()));
  CHECK(!fs::exists(last + "/adapter_model.safetensors"));  // nothing trained
  CHECK(!fs::exists(dir + "/results.json"));

  REQUIRE(shell(commands.back(), log) == 0);
  {
    FolderLock busy(out_of(commands[1]));  // as a process retraining that job holds it
    test::CliResult locked = test::run_lorasum(flags + " --evaluate-only");
    CHECK(locked.status == 2);
    CHECK_THAT(locked.err, Catch::Contains(out_of(commands[1]) + " is in use by another lorasum process"));
  }
  test::CliResult done = test::run_lorasum(flags + " --evaluate-only");
  INFO(done.err);
  CHECK(done.status == 0);
  CHECK(fs::exists(dir + "/results.json"));
  fs::remove_all(dir);
  fs::remove_all(log);
}
