#pragma once
// The study's two other chart types, drawn on svg::Canvas: a scatter plot with a fitted line,
// and line charts of training curves.
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

}  // namespace ls::svg
