#pragma once
// Comma-separated lists on the command line (--targets, --choices, --compositions, token ids).
#include <algorithm>
#include <string>
#include <vector>

namespace ls {

// The items of `text` between commas, in order, empty ones included ("a,,b" has three). As
// std::getline reads a list, a trailing comma ends it without adding an empty item, and "" has
// none. Which items to refuse, and with what message, is the caller's to say.
inline std::vector<std::string> comma_items(const std::string& text) {
  std::vector<std::string> items;
  for (size_t start = 0; start < text.size();) {
    size_t comma = std::min(text.find(',', start), text.size());
    items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

}  // namespace ls
