#pragma once
// Whole-file reading and crash-safe writing.
#include <string>
#include <string_view>
#include <vector>

namespace ls {

// Reads a whole file; throws InputError naming the path when it cannot.
std::string read_file(const std::string& path);

// Writes `bytes` to `path` so that a crash at any moment leaves either the old file or the
// new one: the data goes to a temporary file in the same folder, is flushed to disk, and is
// renamed over `path`.
void write_file_atomic(const std::string& path, std::string_view bytes);
// The same for a file made of `pieces` one after another, written without joining them (a
// checkpoint's tensors go to disk straight from the model's memory).
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);

}  // namespace ls
