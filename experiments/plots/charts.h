#pragma once
// The study's charts, drawn on svg::Canvas in one look: every text measured (text_metrics.h)
// and placed or wrapped inside the canvas, legends in their own column beside the plot, a
// series' colour from its name (series_colour), error bars where a point is a mean over seeds,
// reference values (the study's, random adapters') drawn where they apply.
#include <cmath>
#include <string>
#include <vector>

namespace ls::svg {

enum class Marker { circle, square, triangle, diamond, down };

struct XYPoint {
  double x, y;
  double err = NAN;  // ± on y (a std over seeds); NaN: no error bar
  Marker marker = Marker::circle;
  std::string tooltip;  // shown on hover
};

struct XYSeries {
  std::string name;        // the legend's text; empty: no legend line
  std::string colour_key;  // the name series_colour takes; empty: `name`
  std::vector<XYPoint> points;
  bool joined = false;  // a line through the points in order
  bool markers = true;  // a marker at each point
  bool hollow = false;  // white-filled markers
  std::string dash;     // of the joining line; empty: solid
};

// A band of reference values across the plot, grey: y in [lo, hi], or x when vertical.
struct Band {
  std::string label;
  double lo, hi;
  bool vertical = false;
};

// A dashed horizontal line at y, in the colour of `colour_key`.
struct Reference {
  std::string colour_key;
  double y;
};

struct FitLine {
  std::string label;
  double slope = 0, intercept = 0;  // y = slope·x + intercept
};

// A legend line for a marker shape (grey), e.g. which seed it stands for.
struct MarkerNote {
  Marker marker;
  bool hollow;
  std::string text;
};

struct XYPlot {
  std::string title, subtitle, x_label, y_label;
  bool log_x = false;  // a log x axis, ticks labelled as counts ("1M", "10M", "100M")
  double dodge = 0;    // px between series drawn at the same x, so error bars stay apart
  std::vector<XYSeries> series;
  std::vector<Band> bands;
  std::vector<Reference> references;
  std::string references_label;           // the legend's line for the references
  std::vector<FitLine> fits;              // drawn inside the plot only
  std::vector<MarkerNote> marker_legend;  // what each marker means
};
std::string xy_plot(const XYPlot& p);

// Grouped bars: one group per category along x, one bar per series in each group, with an
// error bar (± err) and the series' reference value drawn as a dashed line across the plot.
struct BarSeries {
  std::string name;
  std::vector<double> values, errors;  // one per category
  double reference = NAN;              // NaN: none
};

struct BarChart {
  std::string title, subtitle, y_label, reference_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
};
std::string bar_chart(const BarChart& chart);

// "1k", "10M", "2.5B": a count with its metric prefix.
std::string count_label(double n);

}  // namespace ls::svg
