#pragma once
// Pieces every chart lays out the same way: a title block wrapped to the canvas, a legend in
// its own column beside the plot (so it never covers data), point markers, and axis ticks
// whose labels do not run into each other.
#include <functional>
#include <string>
#include <vector>

#include "experiments/plots/charts.h"
#include "experiments/plots/svg.h"

namespace ls::svg {

struct TitleBlock {
  std::vector<std::string> title, subtitle;
  double height = 0;  // from the canvas top to below the last line
};
TitleBlock title_block(const std::string& title, const std::string& subtitle, double width);
void draw_title(Canvas& c, const TitleBlock& t);

// A legend line: a swatch drawn in a 24 × 12 box centred at (x, y), then the text, wrapped.
struct LegendEntry {
  std::string text;
  std::function<void(Canvas&, double x, double y)> swatch;  // null: text only
};
constexpr double kLegendMaxWidth = 230;
double legend_width(const std::vector<LegendEntry>& entries);
double legend_height(const std::vector<LegendEntry>& entries, double width);
void draw_legend(Canvas& c, const std::vector<LegendEntry>& entries, double x, double y,
                 double width);

void draw_marker(Canvas& c, Marker m, double x, double y, const std::string& colour, bool hollow,
                 const std::string& tooltip = "");

// Widest of `texts` at `size` px.
double widest(const std::vector<std::string>& texts, double size, bool bold = false);

// Tick positions kept so that no two labels (centred at pixel positions `at`, `size` px) come
// closer than 6 px: a greedy pass from the left.
std::vector<size_t> spaced_ticks(const std::vector<double>& at,
                                 const std::vector<std::string>& labels, double size);

}  // namespace ls::svg
