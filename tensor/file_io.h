#pragma once
// Whole-file reading and crash-safe writing.
#include <string>
#include <string_view>

namespace ls {

// Reads a whole file; throws InputError naming the path when it cannot.
std::string read_file(const std::string& path);

// Writes `bytes` to `path` so that a crash at any moment leaves either the old file or the
// new one: the data goes to a temporary file in the same folder, is flushed to disk, and is
// renamed over `path`.
void write_file_atomic(const std::string& path, std::string_view bytes);

}  // namespace ls
