// Output folders of the lorasum program: replaced as a whole or not at all, never one of the
// run's inputs, cleaned of temporaries after SIGINT, SIGTERM and SIGKILL, and written by one
// process at a time. Faults are injected through test hooks in write_file_atomic
// (LORASUM_TEST_FAIL_WRITE, LORASUM_TEST_PAUSE_WRITE), so every case is deterministic.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "gpt2/checkpoint.h"
#include "lora/lora.h"
#include "tensor/io/file_io.h"
#include "tensor/io/folder_lock.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string q(const std::string& s) { return test::quoted(s); }

std::string train_args(const test::TinySetup& s, const std::string& out, int rank) {
  return "train --model " + q(s.model()) + " --data " + q(s.data()) + " --out " + q(out) +
         " --rank " + std::to_string(rank) + " --alpha " + std::to_string(4 * rank) +
         " --seq-len 32 --batch 4 --max-steps 2 --no-progress";
}

// The same as a spawn_lorasum argument list, checkpointing at every step.
std::vector<std::string> checkpointing_train(const test::TinySetup& s, const std::string& out) {
  return {"train",   "--model",
          s.model(), "--data",
          s.data(),  "--out",
          out,       "--seq-len",
          "32",      "--batch",
          "4",       "--max-steps",
          "3",       "--checkpoint-every",
          "1",       "--no-progress"};
}

// Every file of a folder (hidden ones too) and its bytes, but for the lock file, which holds the
// pid of its last holder.
std::map<std::string, std::string> contents(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename() != FolderLock::kFileName)
      files[entry.path().filename().string()] = read_file(entry.path().string());
  return files;
}

// lorasum's temporary files and folders anywhere under `dir`.
std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (is_temporary_name(entry.path().filename().string())) found.push_back(entry.path());
  return found;
}

// A fresh adapter of rank 2 on the tiny model, saved as a PEFT folder.
std::string make_adapter(const test::TinySetup& s, const std::string& name, uint64_t seed) {
  auto model = load_gpt2(s.model());
  LoraConfig c;
  c.r = 2;
  c.target_modules = {"c_attn"};
  LoraAdapter::create(*model, c, seed)->save(s.path(name));
  return s.path(name);
}

}  // namespace

TEST_CASE("a write that fails part-way leaves the output folder exactly as it was", "[io]") {
  test::TinySetup s("replace_whole");
  std::string adapter = s.path("adapter"), merged = s.path("merged");
  REQUIRE(test::run_lorasum(train_args(s, adapter, 2)).status == 0);
  std::string a = make_adapter(s, "a", 1);
  std::string into_base = "merge --adapter " + q(a) + " --into-base --model " + q(s.model());
  REQUIRE(test::run_lorasum(into_base + " --out " + q(merged)).status == 0);
  auto adapter_before = contents(adapter), merged_before = contents(merged);

  // A full disk at each file of the output: the new run fails, the old output stays whole.
  for (const char* file : {"adapter_config.json", "train_log.csv", "adapter_model.safetensors"}) {
    test::CliResult r = test::run_lorasum(train_args(s, adapter, 4),
                                          std::string("LORASUM_TEST_FAIL_WRITE=") + file);
    INFO(file << ": " << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains(file) && Contains("No space left on device"));
    CHECK(contents(adapter) == adapter_before);
  }
  for (const char* file : {"config.json", "merges.txt"}) {
    test::CliResult r = test::run_lorasum(into_base + " --weights 2 --out " + q(merged),
                                          std::string("LORASUM_TEST_FAIL_WRITE=") + file);
    INFO(file << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(contents(merged) == merged_before);
  }
  CHECK(temporaries(s.path("")).empty());

  // Written in full, the new output replaces the old one as a whole.
  REQUIRE(test::run_lorasum(train_args(s, adapter, 4)).status == 0);
  CHECK_THAT(read_file(adapter + "/adapter_config.json"), Contains("\"r\": 4"));

  // A folder lorasum did not write is refused rather than replaced (and lost).
  s.write("notes/todo.txt", "mine");
  test::CliResult r = test::run_lorasum(train_args(s, s.path("notes"), 2));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("is not a folder lorasum wrote (it holds todo.txt and no "
                             ".lorasum.lock)"));
  CHECK(read_file(s.path("notes/todo.txt")) == "mine");
}

TEST_CASE("an output folder that is, or contains, one of the inputs is refused", "[io]") {
  test::TinySetup s("out_is_input");
  std::string math = make_adapter(s, "cp/math", 1), medicine = make_adapter(s, "cp/medicine", 2);
  fs::create_directory_symlink(math, s.path("link-to-math"));
  fs::create_directory_symlink(s.model(), s.path("link-to-model"));
  auto math_before = contents(math);
  std::string merge = "merge --adapter " + q(math) + " --adapter " + q(medicine) + " --out ";
  struct Case {
    std::string args, input;
  };
  std::vector<Case> cases = {
      {merge + q(math), math},
      {merge + q(s.path("cp/medicine/../math/")), math},
      {merge + q(s.path("link-to-math")), math},
      {merge + q(s.path("cp")), math},
      {"merge --adapter " + q(math) + " --into-base --model " + q(s.path("link-to-model")) +
           " --out " + q(s.model()),
       s.path("link-to-model")},
      {train_args(s, s.path("link-to-model"), 2), s.model()},
      {train_args(s, s.path(""), 2), s.data()},
      {"pretrain --data " + q(s.data()) + " --out " + q(s.path("")), s.data()},
  };
  for (const Case& c : cases) {
    test::CliResult r = test::run_lorasum(c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Contains("is, or contains, the input " + c.input));
  }
  CHECK(contents(math) == math_before);
  CHECK(contents(s.model()).count(".lorasum.lock") == 0);
}

TEST_CASE("SIGINT and SIGTERM remove the unfinished files and say what was kept", "[io]") {
  test::TinySetup s("interrupted");
  std::string a = make_adapter(s, "a", 1), merged = s.path("merged"), out = s.path("adapter");
  struct Case {
    std::vector<std::string> args;
    std::string paused_at;
    int signal, status;
    std::string said;
  };
  std::vector<Case> cases = {
      {{"merge", "--adapter", a, "--into-base", "--model", s.model(), "--out", merged},
       "model.safetensors",
       SIGINT,
       130,
       "interrupted by SIGINT; removed the files it had not finished; kept in " + merged +
           ": nothing"},
      {checkpointing_train(s, out), "checkpoint.safetensors", SIGTERM, 143,
       "interrupted by SIGTERM; removed the files it had not finished; kept in " + out +
           ": nothing"}};
  for (const Case& c : cases) {
    test::Spawned p = test::spawn_lorasum(c.args, {"LORASUM_TEST_PAUSE_WRITE=" + c.paused_at});
    std::string err = test::read_until(p, "into place");
    REQUIRE_THAT(err, Contains("test pause before renaming") && Contains(c.paused_at));
    kill(p.pid, c.signal);
    err += test::read_until(p, "");
    INFO(err);
    CHECK(test::wait_lorasum(p) == c.status);
    CHECK_THAT(err, Contains(c.said));
    CHECK(temporaries(s.path("")).empty());
  }
}

TEST_CASE(
    "a second writer on an output folder stops at once, a killed one leaves no lock or "
    "debris behind",
    "[io]") {
  test::TinySetup s("two_writers");
  std::string out = s.path("adapter");
  test::Spawned first = test::spawn_lorasum(checkpointing_train(s, out),
                                            {"LORASUM_TEST_PAUSE_WRITE=checkpoint.safetensors"});
  REQUIRE_THAT(test::read_until(first, "into place"), Contains("test pause"));

  test::CliResult second = test::run_lorasum(train_args(s, out, 2));
  INFO(second.err);
  CHECK(second.status == 2);
  CHECK_THAT(second.err, Contains(out + " is in use by another lorasum process (pid " +
                                  std::to_string(first.pid) + ")"));
  test::CliResult merge =
      test::run_lorasum("merge --adapter " + q(make_adapter(s, "a", 1)) + " --out " + q(out));
  CHECK(merge.status == 2);
  CHECK_THAT(merge.err, Contains("in use by another lorasum process"));

  // SIGKILL cannot clean up: the kernel drops the lock, the next writer removes the debris.
  kill(first.pid, SIGKILL);
  CHECK(test::wait_lorasum(first) == 128 + SIGKILL);
  REQUIRE(temporaries(out).size() == 1);
  test::CliResult third = test::run_lorasum(train_args(s, out, 2));
  INFO(third.err);
  CHECK(third.status == 0);
  CHECK(temporaries(s.path("")).empty());
}
