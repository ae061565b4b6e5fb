#pragma once
// Notes on stderr about what a run changed or will do differently from what was asked.
#include <string>

namespace ls {

// Prints "note: <text>" on stderr the first time this process meets `text`: the jobs a
// `reproduce` runs in one process read the same files and share settings, and one note says
// all that many identical ones would.
void note_once(const std::string& text);

}  // namespace ls
