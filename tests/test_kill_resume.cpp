// Interrupted and failed training runs of the lorasum program: runs killed with SIGKILL at
// random moments resume to exactly the adapter an uninterrupted run makes, and a run whose
// loss becomes NaN stops with a clear message, keeping its last checkpoint.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Starts lorasum with `args`, its output discarded; returns its pid.
pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv = {const_cast<char*>(LORASUM_BINARY)};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls between fork and exec
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(LORASUM_BINARY, argv.data());
    _exit(127);
  }
  REQUIRE(pid > 0);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

std::vector<std::string> train_args(const test::TinySetup& s, const std::string& out) {
  return {"train", "--model",  s.model(), "--data",       s.data(),      "--out",
          out,     "--rank",   "2",       "--targets",    "c_attn,c_fc", "--dropout",
          "0.1",   "--lr",     "1e-3",    "--batch",      "4",           "--seq-len",
          "32",    "--epochs", "25",      "--warmup",     "10",          "--checkpoint-every",
          "3",     "--seed",   "7",       "--no-progress"};
}

// Step, epoch, loss and learning rate of each logged step (the timing columns differ).
std::vector<std::string> logged_steps(const std::string& csv) {
  std::vector<std::string> rows;
  std::istringstream lines(read_file(csv));
  for (std::string line; std::getline(lines, line);) {
    size_t cut = 0;
    for (int commas = 0; commas < 4 && cut != std::string::npos; ++commas)
      cut = line.find(',', cut + 1);
    rows.push_back(line.substr(0, cut));
  }
  return rows;
}

void require_identical_tensors(const std::string& a_path, const std::string& b_path) {
  SafetensorsFile a = SafetensorsFile::open(a_path), b = SafetensorsFile::open(b_path);
  REQUIRE(a.tensors().size() == b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const SafetensorInfo &x = a.tensors()[i], &y = b.tensors()[i];
    INFO(x.name);
    REQUIRE(x.name == y.name);
    REQUIRE(x.shape == y.shape);
    std::vector<float> u = a.read_f32(x.name), v = b.read_f32(y.name);
    CHECK(std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0);
  }
}

}  // namespace

TEST_CASE("training killed with SIGKILL at random moments resumes to the identical adapter",
          "[train][kill]") {
  test::TinySetup s("kill_resume");
  std::string full = s.path("full"), killed = s.path("killed");

  Clock::time_point start = Clock::now();
  REQUIRE(wait_for(spawn(train_args(s, full))) == 0);
  double full_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Up to three kills, each at a random moment once a checkpoint exists; every run after the
  // first resumes. A run that finishes before its kill lands ends the series.
  std::vector<std::string> args = train_args(s, killed);
  std::string checkpoint = killed + "/checkpoint.safetensors";
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> delay(0.0, 0.4 * full_seconds);
  int kills = 0;
  bool finished = false;
  for (int run = 0; run < 3 && !finished; ++run) {
    pid_t pid = spawn(args);
    int status = 0;
    bool exited = false;
    while (!exited && !fs::exists(checkpoint))
      if (!(exited = waitpid(pid, &status, WNOHANG) == pid))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    double seconds = delay(rng);
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      kill(pid, SIGKILL);
      status = wait_for(pid);
    }
    UNSCOPED_INFO("run " << run << ": kill " << seconds << " s into a " << full_seconds
                         << " s run; " << (WIFSIGNALED(status) ? "killed" : "it had finished"));
    finished = !WIFSIGNALED(status);
    if (finished)
      REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    else if (++kills == 1)
      args.push_back("--resume");
  }
  REQUIRE(kills > 0);
  if (!finished) REQUIRE(wait_for(spawn(args)) == 0);

  require_identical_tensors(full + "/adapter_model.safetensors",
                            killed + "/adapter_model.safetensors");
  CHECK(logged_steps(full + "/train_log.csv") == logged_steps(killed + "/train_log.csv"));
  CHECK(read_file(full + "/adapter_config.json") == read_file(killed + "/adapter_config.json"));
  CHECK_FALSE(fs::exists(checkpoint));  // removed once the run is done
}

TEST_CASE("training whose loss becomes NaN stops with a clear message and keeps the checkpoint",
          "[train]") {
  test::TinySetup s("nan_stop");
  std::string out = s.path("adapter");
  // A learning rate of 1e30 blows the LoRA factors up in one step; the next loss overflows.
  test::CliResult r = test::run_lorasum(
      "train --model " + test::quoted(s.model()) + " --data " + test::quoted(s.data()) + " --out " +
      test::quoted(out) + " --lr 1e30 --checkpoint-every 1 --max-steps 5 --no-progress");
  INFO(r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("training diverged at step 2") &&
                        Contains(out + "/checkpoint.safetensors, is kept"));
  CHECK_FALSE(fs::exists(out + "/adapter_model.safetensors"));
  SafetensorsFile checkpoint = SafetensorsFile::open(out + "/checkpoint.safetensors");
  CHECK(checkpoint.metadata().at("step") == "1");
  for (const SafetensorInfo& t : checkpoint.tensors())
    for (float v : checkpoint.read_f32(t.name)) REQUIRE(std::isfinite(v));

  // A checkpoint whose metadata is not what training writes is refused, not misread.
  std::string bytes = read_file(out + "/checkpoint.safetensors");
  size_t step = bytes.find("\"step\":\"1\"");
  REQUIRE(step != std::string::npos);
  bytes[step + 8] = 'x';
  write_file_atomic(out + "/checkpoint.safetensors", bytes);
  r = test::run_lorasum("train --model " + test::quoted(s.model()) + " --data " +
                        test::quoted(s.data()) + " --out " + test::quoted(out) +
                        " --lr 1e30 --checkpoint-every 1 --max-steps 5 --no-progress --resume");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("checkpoint.safetensors: not a training checkpoint"));
}
