#include "experiments/plots/text_metrics.h"

#include <sstream>
#include <utility>

namespace ls::svg {

namespace {

// Advances in 1/1000 em of the printable ASCII characters, space (32) to tilde (126):
// `python3 scripts/font-metrics.py /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`.
constexpr int kRegular[95] = {
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361,  318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
    575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635,  611, 732, 684, 989, 685,
    611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352,  635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,  525, 636, 337, 636, 838};
// The same of DejaVuSans-Bold.ttf.
constexpr int kBold[95] = {348, 456, 521, 838, 696,  1002, 872, 306,  457, 457, 523, 838, 380, 415,
                           380, 365, 696, 696, 696,  696,  696, 696,  696, 696, 696, 696, 400, 400,
                           838, 838, 838, 580, 1000, 774,  762, 734,  830, 683, 683, 821, 837, 372,
                           372, 775, 637, 995, 837,  850,  733, 850,  770, 720, 682, 812, 774, 1103,
                           771, 724, 725, 457, 365,  457,  838, 500,  500, 675, 716, 593, 716, 678,
                           435, 716, 712, 343, 343,  665,  343, 1042, 712, 687, 716, 716, 493, 595,
                           478, 712, 652, 924, 645,  652,  582, 712,  365, 712, 838};

struct Wide {
  char32_t code;
  int regular, bold;
};
// The non-ASCII characters the figures write.
constexpr Wide kOthers[] = {{0x00A0, 318, 348},   {0x00B7, 318, 380}, {0x2212, 838, 838},
                            {0x00B1, 838, 838},   {0x00D7, 838, 838}, {0x2014, 1000, 1000},
                            {0x2026, 1000, 1000}, {0x2248, 838, 838}, {0x03A3, 632, 683},
                            {0x00B2, 401, 438},   {0x00B3, 401, 438}, {0x207B, 528, 528},
                            {0x2192, 838, 838}};

// The next code point of `s` from `i` (advanced past it); a malformed byte counts as one.
char32_t next_code_point(std::string_view s, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (i + extra >= s.size()) extra = 0;
  char32_t code = extra == 0 ? lead : lead & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) code = (code << 6) | (byte(i + k) & 0x3F);
  i += extra + 1;
  return code;
}

int advance(char32_t code, bool bold) {
  if (code >= 32 && code <= 126) return (bold ? kBold : kRegular)[code - 32];
  for (const Wide& w : kOthers)
    if (w.code == code) return bold ? w.bold : w.regular;
  return 1000;
}

}  // namespace

double text_width(std::string_view text, double size, bool bold) {
  long total = 0;
  for (size_t i = 0; i < text.size();) total += advance(next_code_point(text, i), bold);
  return static_cast<double>(total) * size / 1000.0;
}

std::vector<std::string> wrap(const std::string& text, double size, double width, bool bold) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    std::string longer = line.empty() ? word : line + " " + word;
    if (!line.empty() && text_width(longer, size, bold) > width) {
      lines.push_back(std::exchange(line, word));
    } else {
      line = std::move(longer);
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace ls::svg
