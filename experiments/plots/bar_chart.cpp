// bar_chart: grouped bars with error bars and dashed reference lines, category names
// horizontal when they fit under their group and slanted when not, the legend beside the plot.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiments/plots/charts.h"
#include "experiments/plots/layout.h"
#include "experiments/plots/text_metrics.h"

namespace ls::svg {

namespace {

constexpr double kPlotW = 440, kPlotH = 300, kSlant = 35;  // degrees

// The y range: every bar with its error bar, every reference, and zero; padded by 8 %.
std::pair<double, double> bar_range(const BarChart& chart) {
  double lo = 0, hi = 0;
  auto add = [&](double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  };
  for (const BarSeries& s : chart.series) {
    add(s.reference);
    for (size_t i = 0; i < s.values.size(); ++i) {
      double e = i < s.errors.size() && std::isfinite(s.errors[i]) ? s.errors[i] : 0.0;
      add(s.values[i] - e);
      add(s.values[i] + e);
    }
  }
  double span = hi - lo > 0 ? hi - lo : 1.0;
  return {lo - 0.08 * span, hi + 0.08 * span};
}

std::vector<LegendEntry> bar_legend(const BarChart& chart) {
  std::vector<LegendEntry> out;
  bool any_reference = false;
  for (const BarSeries& s : chart.series) {
    std::string colour = series_colour(s.name);
    out.push_back({s.name, [colour](Canvas& c, double x, double y) {
                     c.rect(x - 8, y - 6, 16, 12, {colour, "none", 0});
                   }});
    any_reference = any_reference || std::isfinite(s.reference);
  }
  if (any_reference)
    out.push_back({chart.reference_label, [](Canvas& c, double x, double y) {
                     c.line(x - 11, y, x + 11, y, {"none", "#555", 1.5, "6 4"});
                   }});
  out.push_back({"error bars: ± std over seeds", [](Canvas& c, double x, double y) {
                   c.line(x, y - 6, x, y + 6, {"none", "#222", 1});
                   c.line(x - 3, y - 6, x + 3, y - 6, {"none", "#222", 1});
                   c.line(x - 3, y + 6, x + 3, y + 6, {"none", "#222", 1});
                 }});
  return out;
}

void draw_bars(Canvas& c, const BarChart& chart, const LinearScale& y, double left, double top) {
  size_t groups = std::max<size_t>(1, chart.categories.size()), n = chart.series.size();
  double group_w = kPlotW / static_cast<double>(groups),
         bar_w = 0.8 * group_w / static_cast<double>(std::max<size_t>(1, n));
  for (size_t k = 0; k < n; ++k) {
    const BarSeries& s = chart.series[k];
    std::string colour = series_colour(s.name);
    for (size_t g = 0; g < s.values.size() && g < groups; ++g) {
      double x = left + group_w * (static_cast<double>(g) + 0.1) + bar_w * static_cast<double>(k);
      double v = s.values[g], e = g < s.errors.size() ? s.errors[g] : 0.0;
      c.rect(x, std::min(y(v), y(0)), bar_w, std::fabs(y(v) - y(0)), {colour, "none", 0},
             fmt::format("{} — {}: {} ± {}", chart.categories[g], s.name, format_value(v),
                         format_value(e)));
      if (std::isfinite(e) && e > 0)
        c.line(x + bar_w / 2, y(v - e), x + bar_w / 2, y(v + e), {"none", "#222", 1});
    }
    if (std::isfinite(s.reference))
      c.line(left, y(s.reference), left + kPlotW, y(s.reference), {"none", colour, 1.5, "6 4"});
  }
  c.line(left, y(0), left + kPlotW, y(0), {"none", "#888", 1});
  c.rect(left, top, kPlotW, kPlotH, {"none", "#444", 1});
}

// Category names under their groups: horizontal if each fits its group, else slanted.
void draw_categories(Canvas& c, const BarChart& chart, double left, double bottom) {
  double group_w = kPlotW / static_cast<double>(std::max<size_t>(1, chart.categories.size()));
  bool slant = widest(chart.categories, 11) > group_w - 6;
  for (size_t g = 0; g < chart.categories.size(); ++g) {
    double x = left + group_w * (static_cast<double>(g) + 0.5);
    if (slant)
      c.text(x + 4, bottom + 14, chart.categories[g], {11, "end", false, "#222", -kSlant});
    else
      c.text(x, bottom + 16, chart.categories[g], {11, "middle"});
  }
}

}  // namespace

std::string bar_chart(const BarChart& chart) {
  auto [lo, hi] = bar_range(chart);
  std::vector<double> ticks = nice_ticks(lo, hi, 6);
  std::vector<std::string> tick_labels;
  for (double t : ticks) tick_labels.push_back(format_value(t));
  double group_w = kPlotW / static_cast<double>(std::max<size_t>(1, chart.categories.size()));
  double names = widest(chart.categories, 11);
  bool slant = names > group_w - 6;
  double angle = kSlant * M_PI / 180;
  // A slanted name reaches down and to the left of its group's centre.
  double below = slant ? names * std::sin(angle) + 14 : 22;
  double reach_left = slant ? names * std::cos(angle) - group_w / 2 : 0;
  double left = std::max(18 + 12 + widest(tick_labels, 11) + 8, reach_left + 12);
  std::vector<LegendEntry> entries = bar_legend(chart);
  double legend_w = legend_width(entries), width = left + kPlotW + 20 + legend_w + 12;
  TitleBlock tb = title_block(chart.title, chart.subtitle, width);
  double top = tb.height + 10;
  double height = top + std::max(kPlotH + below + 12, legend_height(entries, legend_w) + 8);
  Canvas c(width, height);
  draw_title(c, tb);
  LinearScale y{lo, hi, top + kPlotH, top};
  for (size_t i = 0; i < ticks.size(); ++i) {
    c.line(left, y(ticks[i]), left + kPlotW, y(ticks[i]), {"none", "#e8e8e8", 1});
    c.text(left - 6, y(ticks[i]) + 4, tick_labels[i], {11, "end"});
  }
  draw_bars(c, chart, y, left, top);
  draw_categories(c, chart, left, top + kPlotH);
  c.text(18, top + kPlotH / 2, chart.y_label, {13, "middle", false, "#222", -90});
  draw_legend(c, entries, left + kPlotW + 20, top, legend_w);
  return c.str();
}

}  // namespace ls::svg
