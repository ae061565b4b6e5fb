#pragma once
// Runs the built `lorasum` binary and captures its exit status, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tensor/io/file_io.h"

namespace ls::test {

struct CliResult {
  int status = -1;
  std::string out, err;
};

// Exit status as a shell reports it: the code, or 128 + the signal that ended the process.
inline int shell_status(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw); }

// Runs a shell command line, its stdin empty, and captures what it prints.
inline CliResult run_shell(const std::string& command) {
  namespace fs = std::filesystem;
  static int counter = 0;
  std::string base = (fs::temp_directory_path() /
                      ("lorasum_cli_" + std::to_string(getpid()) + "_" + std::to_string(++counter)))
                         .string();
  int raw = std::system((command + " >" + base + ".out 2>" + base + ".err </dev/null").c_str());
  CliResult r;
  r.status = shell_status(raw);
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  fs::remove(base + ".out");
  fs::remove(base + ".err");
  return r;
}

// `prefix`: variable assignments (NAME=value ...) for this run only, or a launcher (mpirun).
inline CliResult run_lorasum(const std::string& args, const std::string& prefix = "") {
  return run_shell(prefix + " " + std::string(LORASUM_BINARY) + " " + args);
}

// Why tests cannot start MPI jobs here, or "" when they can: mpirun must be installed, and
// LORASUM_TEST_NO_MPI unset (make test-asan sets it: Open MPI is not built for
// AddressSanitizer, and the code the MPI tests reach runs under it in one process anyway).
inline std::string no_mpi_reason() {
  if (std::getenv("LORASUM_TEST_NO_MPI")) return "MPI runs are off (LORASUM_TEST_NO_MPI)";
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0)
    return "mpirun not found (scripts/install-deps.sh installs openmpi-bin)";
  return "";
}

// An empty path in the temporary folder for a test's outputs (removed if it exists).
inline std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("lorasum_test_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// Single-quotes a path or value for the shell.
inline std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A lorasum process running in the background, its stderr readable from `err` (a pipe).
struct Spawned {
  pid_t pid = -1;
  int err = -1;
};

// Starts lorasum with `args` and the extra environment `env` (NAME=value each).
inline Spawned spawn_lorasum(const std::vector<std::string>& args,
                             const std::vector<std::string>& env = {}) {
  std::vector<std::string> strings = env;
  for (char** e = environ; *e; ++e) strings.emplace_back(*e);
  std::vector<char*> envp, argv = {const_cast<char*>(LORASUM_BINARY)};
  for (std::string& s : strings) envp.push_back(s.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  envp.push_back(nullptr);
  argv.push_back(nullptr);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {  // only async-signal-safe calls between fork and exec
    dup2(pipe_fds[1], 2);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execve(LORASUM_BINARY, argv.data(), envp.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  return {pid, pipe_fds[0]};
}

// Reads the process's stderr until it holds `text` ("": until the process closes it); returns
// all it read.
inline std::string read_until(const Spawned& p, const std::string& text) {
  std::string got;
  char buf[4096];
  ssize_t n = 0;
  while ((text.empty() || got.find(text) == std::string::npos) &&
         (n = read(p.err, buf, sizeof buf)) > 0)
    got.append(buf, static_cast<size_t>(n));
  return got;
}

// Waits for the process to end; returns its shell_status and closes its pipe.
inline int wait_lorasum(const Spawned& p) {
  int raw = 0;
  waitpid(p.pid, &raw, 0);
  close(p.err);
  return shell_status(raw);
}

}  // namespace ls::test
