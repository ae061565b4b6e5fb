#pragma once
// The study's two other chart types, drawn on svg::Canvas: a scatter plot with a fitted line,
// and line charts of training curves.
#include <cmath>
#include <string>
#include <vector>

namespace ls::svg {

struct Point {
  double x, y;
  std::string label;  // written beside the point and shown on hover
};

struct Scatter {
  std::string title, subtitle, x_label, y_label;
  std::vector<Point> points;
  bool fit_line = false;
  double slope = 0, intercept = 0;  // y = slope·x + intercept, when fit_line
};
std::string scatter(const Scatter& s);

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};
std::string line_chart(const LineChart& c);

// Grouped bars: one group per category along x, one bar per series in each group, with an
// error bar (± err) and the series' reference value drawn as a dashed line across the plot.
struct BarSeries {
  std::string name;
  std::vector<double> values, errors;  // one per category
  double reference = NAN;              // NaN: none
};

struct BarChart {
  std::string title, subtitle, y_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
};
std::string bar_chart(const BarChart& chart);

}  // namespace ls::svg
