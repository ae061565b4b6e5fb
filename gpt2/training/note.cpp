#include "gpt2/training/note.h"

#include <fmt/format.h>

#include <mutex>
#include <set>

namespace ls {

void note_once(const std::string& text) {
  static std::mutex mutex;
  static std::set<std::string> printed;
  std::lock_guard<std::mutex> lock(mutex);
  if (printed.insert(text).second) fmt::print(stderr, "note: {}\n", text);
}

}  // namespace ls
