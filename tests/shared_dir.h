#pragma once
// Locating ../shared (fixtures and real data) for tests that use it when it exists.
#include <filesystem>
#include <iostream>
#include <string>

namespace ls::test {

inline std::string shared_path(const std::string& relative) {
  return std::string(LORASUM_SHARED_DIR) + "/" + relative;
}

// True when ../shared/<relative> exists; otherwise prints the SKIPPED line CTest looks for.
inline bool have_shared(const std::string& relative) {
  if (std::filesystem::exists(shared_path(relative))) return true;
  std::cout << "SKIPPED: " << shared_path(relative) << " not found\n";
  return false;
}

}  // namespace ls::test
