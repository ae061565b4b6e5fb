#pragma once
// Catch2 expectations on a run of the lorasum program.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli_runner.h"

namespace ls::test {

// lorasum must refuse `args` with status 2 and one "lorasum: error:" line holding every
// fragment, and must not have created `output`.
inline void expect_refused(const std::string& args, const std::vector<std::string>& fragments,
                           const std::string& output = "") {
  CliResult r = run_lorasum(args);
  INFO("lorasum " << args << "\nstderr: " << r.err);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Matchers::StartsWith("lorasum: error: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  for (const std::string& fragment : fragments)
    CHECK_THAT(r.err, Catch::Matchers::Contains(fragment));
  if (!output.empty()) CHECK_FALSE(std::filesystem::exists(output));
}

}  // namespace ls::test
