// catch_discover_tests hands each test's name to CTest as a CMake list element, and CMake cuts
// a list at ';': a name with one becomes a filter that matches no test, which Catch2 answers
// with success, so the test would never run.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>

#include "tensor/io/file_io.h"

TEST_CASE("no test name holds a semicolon, so CTest runs every test whole", "[cli]") {
  namespace fs = std::filesystem;
  std::regex name(R"re(TEST_CASE\(\s*"([^"]*)")re");
  int names = 0;
  for (const auto& entry : fs::directory_iterator(std::string(LORASUM_SOURCE_DIR) + "/tests")) {
    if (entry.path().extension() != ".cpp") continue;
    std::string text = ls::read_file(entry.path().string());
    for (std::sregex_iterator m(text.begin(), text.end(), name), end; m != end; ++m, ++names) {
      INFO(entry.path().filename().string() << ": " << (*m)[1].str());
      CHECK((*m)[1].str().find(';') == std::string::npos);
    }
  }
  CHECK(names > 200);
}
