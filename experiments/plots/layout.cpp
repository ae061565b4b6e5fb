#include "experiments/plots/layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiments/plots/text_metrics.h"

namespace ls::svg {

TitleBlock title_block(const std::string& title, const std::string& subtitle, double width) {
  TitleBlock t;
  t.title = wrap(title, 16, width - 24, true);
  if (!subtitle.empty()) t.subtitle = wrap(subtitle, 12, width - 24);
  t.height = 14 + 20.0 * t.title.size() + 16.0 * t.subtitle.size() + 6;
  return t;
}

void draw_title(Canvas& c, const TitleBlock& t) {
  double y = 28;
  for (const std::string& line : t.title) {
    c.text(12, y, line, {16, "start", true});
    y += 20;
  }
  for (const std::string& line : t.subtitle) {
    c.text(12, y - 2, line, {12, "start", false, "#555"});
    y += 16;
  }
}

namespace {

constexpr double kSwatch = 30, kLine = 15, kGap = 6;  // swatch column, line height, entry gap

std::vector<std::string> entry_lines(const LegendEntry& e, double width) {
  return wrap(e.text, 11, width - (e.swatch ? kSwatch : 0));
}

}  // namespace

double legend_width(const std::vector<LegendEntry>& entries) {
  double w = 0;
  for (const LegendEntry& e : entries)
    w = std::max(w, text_width(e.text, 11) + (e.swatch ? kSwatch : 0) + 4);
  return std::min(w, kLegendMaxWidth);
}

double legend_height(const std::vector<LegendEntry>& entries, double width) {
  double h = 0;
  for (const LegendEntry& e : entries) h += kLine * entry_lines(e, width).size() + kGap;
  return h;
}

void draw_legend(Canvas& c, const std::vector<LegendEntry>& entries, double x, double y,
                 double width) {
  for (const LegendEntry& e : entries) {
    std::vector<std::string> lines = entry_lines(e, width);
    if (e.swatch) e.swatch(c, x + 12, y + 7);
    for (size_t i = 0; i < lines.size(); ++i)
      c.text(x + (e.swatch ? kSwatch : 0), y + 11 + kLine * i, lines[i], {11});
    y += kLine * lines.size() + kGap;
  }
}

void draw_marker(Canvas& c, Marker m, double x, double y, const std::string& colour, bool hollow,
                 const std::string& tooltip) {
  Style s{hollow ? "white" : colour, hollow ? colour : "white", hollow ? 1.8 : 0.8};
  const double r = 4.5;
  switch (m) {
    case Marker::circle:
      c.circle(x, y, r, s, tooltip);
      return;
    case Marker::square:
      c.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, s, tooltip);
      return;
    case Marker::triangle:
      c.path(fmt::format("M {:.1f} {:.1f} L {:.1f} {:.1f} L {:.1f} {:.1f} Z", x, y - r * 1.2,
                         x + r * 1.1, y + r * 0.8, x - r * 1.1, y + r * 0.8),
             s, tooltip);
      return;
    case Marker::down:
      c.path(fmt::format("M {:.1f} {:.1f} L {:.1f} {:.1f} L {:.1f} {:.1f} Z", x, y + r * 1.2,
                         x + r * 1.1, y - r * 0.8, x - r * 1.1, y - r * 0.8),
             s, tooltip);
      return;
    case Marker::diamond:
      c.path(fmt::format("M {:.1f} {:.1f} L {:.1f} {:.1f} L {:.1f} {:.1f} L {:.1f} {:.1f} Z", x,
                         y - r * 1.3, x + r * 1.1, y, x, y + r * 1.3, x - r * 1.1, y),
             s, tooltip);
      return;
  }
}

double widest(const std::vector<std::string>& texts, double size, bool bold) {
  double w = 0;
  for (const std::string& t : texts) w = std::max(w, text_width(t, size, bold));
  return w;
}

std::vector<size_t> spaced_ticks(const std::vector<double>& at,
                                 const std::vector<std::string>& labels, double size) {
  std::vector<size_t> kept;
  double right = -1e300;
  for (size_t i = 0; i < at.size(); ++i) {
    double half = text_width(labels[i], size) / 2;
    if (at[i] - half < right + 6) continue;
    kept.push_back(i);
    right = at[i] + half;
  }
  return kept;
}

std::string count_label(double n) {
  static const std::pair<double, const char*> prefixes[] = {{1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
  for (auto [scale, prefix] : prefixes)
    if (std::fabs(n) >= scale) return fmt::format("{:.3g}{}", n / scale, prefix);
  return fmt::format("{:.3g}", n);
}

}  // namespace ls::svg
