#pragma once
// How wide a line of SVG text is, before any browser draws it: the advance widths of DejaVu Sans
// (regular and bold), the font every figure declares first, measured from the font's own tables
// by scripts/font-metrics.py. Charts place and wrap their text with these widths so that no
// text leaves the canvas or runs into other text.
#include <string>
#include <string_view>
#include <vector>

namespace ls::svg {

// The font-family every figure declares; its first face is the one measured here.
inline constexpr const char* kFontFamily = "DejaVu Sans, Verdana, sans-serif";

// Width in pixels of `text` (UTF-8) at `size` px. Characters outside the table count as an
// em, wider than any the figures use, so an estimate errs on the roomy side.
double text_width(std::string_view text, double size, bool bold = false);

// `text` broken at spaces into lines no wider than `width` (a word wider than `width` gets a
// line of its own).
std::vector<std::string> wrap(const std::string& text, double size, double width,
                              bool bold = false);

}  // namespace ls::svg
