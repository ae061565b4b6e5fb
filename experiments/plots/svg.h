#pragma once
// SVG figures that open in any browser, with no plotting library: a canvas of shapes and text,
// a linear scale, colour and number helpers, and the heatmap; charts.h draws the other charts
// on the same canvas.
#include <string>
#include <utility>
#include <vector>

namespace ls::svg {

struct Style {
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1.0;
  std::string dash = "";  // stroke-dasharray, e.g. "6 4"; empty: solid
};

struct TextStyle {
  double size = 12.0;
  std::string anchor = "start";  // start, middle or end
  bool bold = false;
  std::string fill = "#222";
  double rotate = 0.0;  // degrees, about the anchor point
};

class Canvas {
 public:
  Canvas(double width, double height);
  // `tooltip` becomes a <title>, which browsers show on hover.
  void rect(double x, double y, double w, double h, const Style& style,
            const std::string& tooltip = "");
  void line(double x1, double y1, double x2, double y2, const Style& style);
  void circle(double x, double y, double r, const Style& style, const std::string& tooltip = "");
  // An SVG path ("M x y L x y … Z").
  void path(const std::string& d, const Style& style, const std::string& tooltip = "");
  void text(double x, double y, const std::string& content, const TextStyle& style = {});
  // Defines a gradient through (offset in [0, 1], colour) stops, top to bottom when
  // `vertical`; returns "url(#id)" to use as a fill.
  std::string gradient(const std::vector<std::pair<double, std::string>>& stops, bool vertical);

  // Shapes drawn between clip_begin and clip_end show only inside the rectangle.
  void clip_begin(double x, double y, double w, double h);
  void clip_end();

  std::string str() const;  // the whole document
  void save(const std::string& path) const;

 private:
  void shape(const std::string& element, const std::string& attributes, const Style& style,
             const std::string& tooltip);

  double width_, height_;
  std::string defs_, body_;
  int next_id_ = 0;
};

// Maps [d0, d1] onto [r0, r1] linearly (data to pixels; r0 > r1 for an upward y axis).
struct LinearScale {
  double d0, d1, r0, r1;
  double operator()(double v) const { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
};

std::string escape(const std::string& text);  // for XML text and attribute values
// Blue (t = −1) through white (0) to red (+1), for signed values such as cosines; t is clamped.
std::string diverging_colour(double t);
// The colour of a series by its name, the same in every figure: the study's domains, pairs and
// triple have fixed colours; any other name gets one from its characters.
std::string series_colour(const std::string& name);
// Three significant digits, plain or exponent form, whichever is shorter ("0.0123", "7.5e-05").
std::string format_value(double v);
// Round values (1, 2 or 5 × 10ᵏ apart) inside [lo, hi], about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, int count);

struct Heatmap {
  std::string title, subtitle, x_label, y_label, value_label;
  std::vector<std::string> columns, rows;
  std::vector<std::vector<double>> values;  // [row][column]; NaN: no value, drawn grey
  double limit = 0.0;                       // colours span ±limit; 0: the largest |value|
};
// The SVG document: coloured cells with their values written in, row and column labels,
// axis labels, title, and a colour bar with ticks.
std::string heatmap(const Heatmap& h);

}  // namespace ls::svg
