#include "experiments/plots/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "experiments/plots/svg.h"

namespace ls::svg {

namespace {

constexpr double kWidth = 720, kHeight = 480;
constexpr double kLeft = 80, kRight = 200, kTop = 70, kBottom = 60;  // plot margins
const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                          "#ff7f0e", "#17becf", "#8c564b"};

struct Range {
  double lo = std::numeric_limits<double>::infinity(),
         hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // Padded by 8 % so points do not sit on the frame; a flat range gets a unit span.
  Range padded() const {
    if (!(lo <= hi)) return {0, 1};
    double span = hi - lo > 0 ? hi - lo : std::max(1.0, std::fabs(hi));
    return {lo - 0.08 * span, hi + 0.08 * span};
  }
};

struct Frame {
  LinearScale x, y;
};

// Axes, grid, ticks, labels and title; returns the data-to-pixel scales.
Frame draw_frame(Canvas& c, const std::string& title, const std::string& subtitle,
                 const std::string& x_label, const std::string& y_label, Range xr, Range yr) {
  Frame f{{xr.lo, xr.hi, kLeft, kWidth - kRight}, {yr.lo, yr.hi, kHeight - kBottom, kTop}};
  c.text(kLeft, 28, title, {16, "start", true});
  if (!subtitle.empty()) c.text(kLeft, 48, subtitle, {12, "start", false, "#555"});
  Style grid{"none", "#e5e5e5", 1};
  for (double t : nice_ticks(xr.lo, xr.hi, 6)) {
    c.line(f.x(t), kTop, f.x(t), kHeight - kBottom, grid);
    c.text(f.x(t), kHeight - kBottom + 18, format_value(t), {11, "middle"});
  }
  for (double t : nice_ticks(yr.lo, yr.hi, 6)) {
    c.line(kLeft, f.y(t), kWidth - kRight, f.y(t), grid);
    c.text(kLeft - 8, f.y(t) + 4, format_value(t), {11, "end"});
  }
  c.rect(kLeft, kTop, kWidth - kRight - kLeft, kHeight - kBottom - kTop, {"none", "#444", 1});
  c.text((kLeft + kWidth - kRight) / 2, kHeight - 18, x_label, {13, "middle"});
  c.text(22, (kTop + kHeight - kBottom) / 2, y_label, {13, "middle", false, "#222", -90});
  return f;
}

}  // namespace

std::string scatter(const Scatter& s) {
  Range xr, yr;
  for (const Point& p : s.points) {
    xr.add(p.x);
    yr.add(p.y);
  }
  xr = xr.padded();
  yr = yr.padded();
  Canvas c(kWidth, kHeight);
  Frame f = draw_frame(c, s.title, s.subtitle, s.x_label, s.y_label, xr, yr);
  if (s.fit_line)
    c.line(f.x(xr.lo), f.y(s.slope * xr.lo + s.intercept), f.x(xr.hi),
           f.y(s.slope * xr.hi + s.intercept), {"none", "#d62728", 2});
  for (const Point& p : s.points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    c.rect(f.x(p.x) - 4, f.y(p.y) - 4, 8, 8, {"#1f77b4", "#0b3d66", 1},
           fmt::format("{}: ({}, {})", p.label, format_value(p.x), format_value(p.y)));
    c.text(f.x(p.x) + 7, f.y(p.y) - 6, p.label, {10, "start", false, "#333"});
  }
  if (s.fit_line)
    c.text(kWidth - kRight + 12, kTop + 12,
           fmt::format("fit: y = {}·x {} {}", format_value(s.slope), s.intercept < 0 ? "−" : "+",
                       format_value(std::fabs(s.intercept))),
           {11, "start", false, "#d62728"});
  return c.str();
}

std::string line_chart(const LineChart& chart) {
  Range xr, yr;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      xr.add(s.x[i]);
      yr.add(s.y[i]);
    }
  Canvas c(kWidth, kHeight);
  Frame f = draw_frame(c, chart.title, "", chart.x_label, chart.y_label, xr.padded(), yr.padded());
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    Style style{"none", kPalette[k % std::size(kPalette)], 1.5};
    for (size_t i = 1; i < s.x.size(); ++i)
      c.line(f.x(s.x[i - 1]), f.y(s.y[i - 1]), f.x(s.x[i]), f.y(s.y[i]), style);
    double ly = kTop + 14 + 18 * static_cast<double>(k);  // legend
    c.line(kWidth - kRight + 12, ly - 4, kWidth - kRight + 36, ly - 4, {"none", style.stroke, 3});
    c.text(kWidth - kRight + 42, ly, s.name, {11});
  }
  return c.str();
}

namespace {

// The y range of a bar chart: every bar with its error bar, every reference, and zero.
Range bar_range(const BarChart& chart) {
  Range r;
  r.add(0.0);
  for (const BarSeries& s : chart.series) {
    r.add(s.reference);
    for (size_t i = 0; i < s.values.size(); ++i) {
      double e = i < s.errors.size() ? s.errors[i] : 0.0;
      r.add(s.values[i] - e);
      r.add(s.values[i] + e);
    }
  }
  return r.padded();
}

}  // namespace

std::string bar_chart(const BarChart& chart) {
  constexpr double kBottomLabels = 110;  // room for rotated category names
  Range yr = bar_range(chart);
  Canvas c(kWidth, kHeight + kBottomLabels);
  c.text(kLeft, 28, chart.title, {16, "start", true});
  c.text(kLeft, 48, chart.subtitle, {12, "start", false, "#555"});
  LinearScale y{yr.lo, yr.hi, kHeight - kBottom, kTop};
  double plot_w = kWidth - kRight - kLeft;
  Style grid{"none", "#e5e5e5", 1};
  for (double t : nice_ticks(yr.lo, yr.hi, 6)) {
    c.line(kLeft, y(t), kWidth - kRight, y(t), grid);
    c.text(kLeft - 8, y(t) + 4, format_value(t), {11, "end"});
  }
  c.line(kLeft, y(0), kWidth - kRight, y(0), {"none", "#888", 1});
  size_t groups = std::max<size_t>(1, chart.categories.size()), n = chart.series.size();
  double group_w = plot_w / static_cast<double>(groups),
         bar_w = 0.8 * group_w / std::max<size_t>(1, n);
  for (size_t k = 0; k < n; ++k) {
    const BarSeries& s = chart.series[k];
    std::string colour = kPalette[k % std::size(kPalette)];
    for (size_t g = 0; g < s.values.size() && g < groups; ++g) {
      double x = kLeft + group_w * (static_cast<double>(g) + 0.1) + bar_w * static_cast<double>(k);
      double v = s.values[g], e = g < s.errors.size() ? s.errors[g] : 0.0;
      c.rect(x, std::min(y(v), y(0)), bar_w, std::fabs(y(v) - y(0)), {colour, "none", 0},
             fmt::format("{} — {}: {} ± {}", chart.categories[g], s.name, format_value(v),
                         format_value(e)));
      c.line(x + bar_w / 2, y(v - e), x + bar_w / 2, y(v + e), {"none", "#222", 1});
    }
    if (std::isfinite(s.reference)) {
      Style dashed{"none", colour, 1.5};
      for (double x = kLeft; x < kWidth - kRight; x += 12)
        c.line(x, y(s.reference), std::min(x + 6, kWidth - kRight), y(s.reference), dashed);
    }
    double ly = kTop + 14 + 18 * static_cast<double>(k);  // legend
    c.rect(kWidth - kRight + 12, ly - 10, 14, 10, {colour, "none", 0});
    c.text(kWidth - kRight + 32, ly,
           s.name + (std::isfinite(s.reference)
                         ? fmt::format(" (study {}: dashed)", format_value(s.reference))
                         : ""),
           {11});
  }
  for (size_t g = 0; g < chart.categories.size(); ++g)
    c.text(kLeft + group_w * (static_cast<double>(g) + 0.5), kHeight - kBottom + 14,
           chart.categories[g], {11, "end", false, "#222", -40});
  c.rect(kLeft, kTop, plot_w, kHeight - kBottom - kTop, {"none", "#444", 1});
  c.text(22, (kTop + kHeight - kBottom) / 2, chart.y_label, {13, "middle", false, "#222", -90});
  return c.str();
}

}  // namespace ls::svg
