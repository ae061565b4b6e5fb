// Every seed of the fuzz corpus and every input a fuzzer once crashed on (tests/fuzz/corpus/
// and tests/fuzz/regressions/, one folder per reader), run through the fuzzers' own checks:
// each must be read cleanly or refused with an InputError.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tensor/io/file_io.h"
#include "tests/fuzz/harness.h"

namespace fs = std::filesystem;

TEST_CASE("fuzz seeds and past crashing inputs are read or refused cleanly", "[fuzz]") {
  const fs::path root = fs::path(LORASUM_SOURCE_DIR) / "tests" / "fuzz";
  size_t replayed = 0;
  for (const auto& [reader, check] : ls::fuzz::kTargets)
    for (const char* set : {"corpus", "regressions"}) {
      fs::path dir = root / set / reader;
      if (!fs::is_directory(dir)) continue;
      for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
        INFO(entry.path().string());
        CHECK_NOTHROW(check(ls::read_file(entry.path().string())));
        ++replayed;
      }
    }
  CHECK(replayed >= 19);  // the seeds at least
}
