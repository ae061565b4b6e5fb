// The libraries (tensor/, autograd/, nn/, gpt2/, lora/) know nothing of the study that
// experiments/ reproduces: the study's choices, datasets and jobs are named only there, and
// reach the libraries through extension points (a training head, a QA layout, seed streams).
//
// The words: the study itself; each --study-choices name and the identifiers it would leave
// behind; the study's domains and their source datasets; its adapter jobs. "aligned" and
// "math" alone are left out on purpose: the libraries rightly speak of 64-byte aligned
// buffers and of vmath, so only the study's phrases of them are listed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "tensor/io/file_io.h"

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kStudyWords = {
    "study",
    "aligned-labels",
    "aligned_length",
    "aligned layout",
    "discarded",
    "eval-overlap",
    "eval_overlap",
    "merged-subsample",
    "half-scale",
    "half_scale",
    "cproj-untransposed",
    "shared-init",
    "shared_init",
    "math+",
    "math,",
    "medicine",
    "finance",
    "mathqa",
    "medquad",
    "adapter job",
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

TEST_CASE("the libraries' sources and READMEs name nothing of the study", "[core-words]") {
  std::vector<std::string> hits;
  int64_t files = 0;
  for (const char* folder : {"tensor", "autograd", "nn", "gpt2", "lora"}) {
    fs::path root = fs::path(LORASUM_SOURCE_DIR) / folder;
    REQUIRE(fs::is_directory(root));
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      std::string ext = entry.path().extension().string();
      if (ext != ".h" && ext != ".cpp" && ext != ".md") continue;
      ++files;
      std::string text = lower(ls::read_file(entry.path().string()));
      for (const std::string& word : kStudyWords)
        if (text.find(word) != std::string::npos)
          hits.push_back(entry.path().string() + ": " + word);
    }
  }
  CHECK(files > 50);  // the walk found the libraries
  std::string listed;
  for (const std::string& hit : hits) listed += hit + "\n";
  INFO(listed);
  CHECK(hits.empty());
}

// The application layer sits under the study and the CLI: an include of theirs there would
// point the dependency the wrong way.
TEST_CASE("experiments/app includes nothing from study/, cli/ or the other tools", "[core-words]") {
  std::vector<std::string> hits;
  int64_t files = 0;
  fs::path root = fs::path(LORASUM_SOURCE_DIR) / "experiments" / "app";
  REQUIRE(fs::is_directory(root));
  for (const auto& entry : fs::directory_iterator(root)) {
    ++files;
    std::string text = ls::read_file(entry.path().string());
    for (const char* folder : {"study/", "cli/", "datagen/", "plots/", "bench/"})
      if (text.find(std::string("#include \"experiments/") + folder) != std::string::npos)
        hits.push_back(entry.path().string() + ": " + folder);
  }
  CHECK(files > 5);
  std::string listed;
  for (const std::string& hit : hits) listed += hit + "\n";
  INFO(listed);
  CHECK(hits.empty());
}
