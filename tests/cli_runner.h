#pragma once
// Runs the built `lorasum` binary and captures its exit status, stdout and stderr.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tensor/file_io.h"

namespace ls::test {

struct CliResult {
  int status = -1;
  std::string out, err;
};

inline CliResult run_lorasum(const std::string& args) {
  namespace fs = std::filesystem;
  static int counter = 0;
  std::string base = (fs::temp_directory_path() /
                      ("lorasum_cli_" + std::to_string(getpid()) + "_" + std::to_string(++counter)))
                         .string();
  std::string command = std::string(LORASUM_BINARY) + " " + args + " >" + base + ".out 2>" +
                        base + ".err </dev/null";
  int raw = std::system(command.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  fs::remove(base + ".out");
  fs::remove(base + ".err");
  return r;
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

}  // namespace ls::test
