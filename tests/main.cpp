// Catch2's main, run once per test case by CTest. Each process gets a private temporary folder
// (TMPDIR, which std::filesystem::temp_directory_path and the lorasum processes a test starts
// both follow), so the fixed names tests give their files never collide between two suites
// running at once on one machine; it is removed when the process ends.
#define CATCH_CONFIG_RUNNER
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char* argv[]) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "lorasum-tests-XXXXXX").string();
  if (!mkdtemp(pattern.data())) {
    std::perror("lorasum_tests: cannot create a temporary folder");
    return 2;
  }
  setenv("TMPDIR", pattern.c_str(), 1);
  int failed = Catch::Session().run(argc, argv);
  std::error_code ignored;
  fs::remove_all(pattern, ignored);
  return failed;
}
