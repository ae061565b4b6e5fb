#pragma once
// The pieces of a run's report.html: one self-contained page (inline CSS and SVG, no script, no
// network) with the run's settings, its main table beside the study's numbers, every figure,
// the per-seed figures folded away, and links to the run's files.
#include <string>
#include <utility>
#include <vector>

namespace ls::html {

std::string esc(const std::string& text);
// A table; every cell is HTML already (escape text with esc).
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);
// Settings as a two-column table of name and value (both text).
std::string settings_table(const std::vector<std::pair<std::string, std::string>>& settings);
// Folded away until the reader opens it.
std::string details(const std::string& summary, const std::string& body);
// Every plots/*.svg of run_dir inlined in a <figure>, the study's main figures first, each
// figure's ids prefixed so that two figures' gradients or clips never clash.
std::string figures(const std::string& run_dir);
// Links to those of `files` (relative to run_dir) that exist.
std::string links(const std::string& run_dir, const std::vector<std::string>& files);
// The whole document.
std::string page(const std::string& title, const std::string& body);

}  // namespace ls::html
