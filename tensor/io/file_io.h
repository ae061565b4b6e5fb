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

// Makes the folder's entries (a rename into it) durable.
void sync_folder(const std::string& dir);

// The name a file or folder has while lorasum writes it: ".NAME.tmpDIGITS" next to `path`.
std::string temporary_path(const std::string& path);
// Whether `name` has that form (for the file or folder `of`, when given): a leftover of a
// killed lorasum process once no live process holds the folder.
bool is_temporary_name(const std::string& name, const std::string& of = "");

}  // namespace ls
