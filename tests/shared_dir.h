#pragma once
// Locating ../shared (PyTorch fixtures and real GPT-2 files) for the extra checks that use it
// when it exists; every test also runs on the committed fixtures, so none skips without it.
#include <filesystem>
#include <string>

namespace ls::test {

inline std::string shared_path(const std::string& relative) {
  return std::string(LORASUM_SHARED_DIR) + "/" + relative;
}

inline bool shared_exists(const std::string& relative) {
  return std::filesystem::exists(shared_path(relative));
}

}  // namespace ls::test
