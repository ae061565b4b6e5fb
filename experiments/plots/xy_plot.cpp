// xy_plot: points (markers, error bars, joining lines) on linear or log-x axes, with bands,
// reference lines and fitted lines, and the legend in its own column.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "experiments/plots/charts.h"
#include "experiments/plots/layout.h"
#include "experiments/plots/text_metrics.h"

namespace ls::svg {

namespace {

constexpr double kPlotW = 440, kPlotH = 300;

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

struct Axes {
  bool log_x;
  LinearScale x, y;
  double left, top;
  double px(double v) const { return x(log_x ? std::log10(v) : v); }
};

std::pair<Range, Range> ranges(const XYPlot& p) {
  Range xr, yr;
  auto x_of = [&](double v) { return p.log_x ? (v > 0 ? std::log10(v) : NAN) : v; };
  for (const XYSeries& s : p.series)
    for (const XYPoint& q : s.points) {
      xr.add(x_of(q.x));
      yr.add(q.y);
      if (std::isfinite(q.err)) {
        yr.add(q.y - q.err);
        yr.add(q.y + q.err);
      }
    }
  for (const Band& b : p.bands)
    for (double v : {b.lo, b.hi}) (b.vertical ? xr : yr).add(b.vertical ? x_of(v) : v);
  for (const Reference& r : p.references) yr.add(r.y);
  return {xr.padded(), yr.padded()};
}

struct Ticks {
  std::vector<double> at;  // in axis units (log10 on a log axis)
  std::vector<std::string> labels;
};

Ticks ticks(Range r, bool log) {
  Ticks t;
  if (!log) {
    for (double v : nice_ticks(r.lo, r.hi, 6)) {
      t.at.push_back(v);
      t.labels.push_back(format_value(v));
    }
    return t;
  }
  // Decades, and 2× and 5× between them when the axis spans less than two decades.
  bool fine = r.hi - r.lo < 2;
  for (double k = std::floor(r.lo); k <= std::ceil(r.hi); ++k)
    for (double m : {1.0, 2.0, 5.0}) {
      double v = std::log10(m) + k;
      if ((m == 1.0 || fine) && v >= r.lo && v <= r.hi) {
        t.at.push_back(v);
        t.labels.push_back(count_label(std::pow(10.0, v)));
      }
    }
  return t;
}

void draw_axes(Canvas& c, const XYPlot& p, const Axes& a, const Ticks& xt, const Ticks& yt) {
  Style grid{"none", "#e8e8e8", 1};
  double bottom = a.top + kPlotH, right = a.left + kPlotW;
  std::vector<double> xs;
  for (double v : xt.at) xs.push_back(a.x(v));
  for (size_t i : spaced_ticks(xs, xt.labels, 11)) {
    c.line(xs[i], a.top, xs[i], bottom, grid);
    c.text(xs[i], bottom + 16, xt.labels[i], {11, "middle"});
  }
  for (size_t i = 0; i < yt.at.size(); ++i) {
    c.line(a.left, a.y(yt.at[i]), right, a.y(yt.at[i]), grid);
    c.text(a.left - 6, a.y(yt.at[i]) + 4, yt.labels[i], {11, "end"});
  }
  c.rect(a.left, a.top, kPlotW, kPlotH, {"none", "#444", 1});
  c.text(a.left + kPlotW / 2, bottom + 38, p.x_label, {13, "middle"});
  c.text(18, a.top + kPlotH / 2, p.y_label, {13, "middle", false, "#222", -90});
}

// Bands, references and fits: reference marks behind the data, clipped to the plot.
void draw_references(Canvas& c, const XYPlot& p, const Axes& a) {
  c.clip_begin(a.left, a.top, kPlotW, kPlotH);
  for (const Band& b : p.bands) {
    Style fill{"#d9d9d9", "none", 0};
    if (b.vertical) {
      double x0 = a.px(b.lo), x1 = a.px(b.hi);
      c.rect(std::min(x0, x1), a.top, std::max(std::fabs(x1 - x0), 2.0), kPlotH, fill, b.label);
    } else {
      double y0 = a.y(b.lo), y1 = a.y(b.hi);
      c.rect(a.left, std::min(y0, y1), kPlotW, std::max(std::fabs(y1 - y0), 2.0), fill, b.label);
    }
  }
  for (const Reference& r : p.references)
    c.line(a.left, a.y(r.y), a.left + kPlotW, a.y(r.y),
           {"none", series_colour(r.colour_key), 1.5, "6 4"});
  for (const FitLine& f : p.fits) {
    double x0 = a.x.d0, x1 = a.x.d1;  // a fit is drawn on linear axes only
    c.line(a.x(x0), a.y(f.slope * x0 + f.intercept), a.x(x1), a.y(f.slope * x1 + f.intercept),
           {"none", "#333", 1.5});
  }
  c.clip_end();
}

void draw_series(Canvas& c, const XYSeries& s, Axes a) {
  std::string colour = series_colour(s.colour_key.empty() ? s.name : s.colour_key);
  if (s.joined && s.points.size() > 1) {
    std::string d;
    for (const XYPoint& q : s.points)
      d += fmt::format("{} {:.1f} {:.1f} ", d.empty() ? "M" : "L", a.px(q.x), a.y(q.y));
    c.path(d, {"none", colour, s.markers ? 1.5 : 1.8, s.dash});
  }
  for (const XYPoint& q : s.points) {
    if (!std::isfinite(q.err) || q.err <= 0) continue;
    double x = a.px(q.x), lo = a.y(q.y - q.err), hi = a.y(q.y + q.err);
    Style bar{"none", colour, 1.3};
    c.line(x, lo, x, hi, bar);
    c.line(x - 4, lo, x + 4, lo, bar);
    c.line(x - 4, hi, x + 4, hi, bar);
  }
  if (s.markers)
    for (const XYPoint& q : s.points)
      draw_marker(c, q.marker, a.px(q.x), a.y(q.y), colour, s.hollow, q.tooltip);
}

std::vector<LegendEntry> legend(const XYPlot& p) {
  std::vector<LegendEntry> out;
  for (const XYSeries& s : p.series) {
    if (s.name.empty()) continue;
    std::string colour = series_colour(s.colour_key.empty() ? s.name : s.colour_key);
    Marker m = s.points.empty() ? Marker::circle : s.points.front().marker;
    out.push_back({s.name, [=](Canvas& c, double x, double y) {
                     if (s.joined || !s.markers)
                       c.line(x - 11, y, x + 11, y, {"none", colour, 2, s.dash});
                     if (s.markers) draw_marker(c, m, x, y, colour, s.hollow);
                   }});
  }
  for (const MarkerNote& n : p.marker_legend)
    out.push_back({n.text, [n](Canvas& c, double x, double y) {
                     draw_marker(c, n.marker, x, y, "#555", n.hollow);
                   }});
  for (const Band& b : p.bands)
    out.push_back({b.label, [](Canvas& c, double x, double y) {
                     c.rect(x - 11, y - 5, 22, 10, {"#d9d9d9", "none", 0});
                   }});
  if (!p.references.empty())
    out.push_back({p.references_label, [](Canvas& c, double x, double y) {
                     c.line(x - 11, y, x + 11, y, {"none", "#555", 1.5, "6 4"});
                   }});
  for (const FitLine& f : p.fits)
    out.push_back({f.label, [](Canvas& c, double x, double y) {
                     c.line(x - 11, y, x + 11, y, {"none", "#333", 1.5});
                   }});
  return out;
}

}  // namespace

std::string xy_plot(const XYPlot& p) {
  auto [xr, yr] = ranges(p);
  Ticks xt = ticks(xr, p.log_x), yt = ticks(yr, false);
  std::vector<LegendEntry> entries = legend(p);
  double left = 18 + 12 + widest(yt.labels, 11) + 8;
  double legend_w = legend_width(entries);
  double width = left + kPlotW + 20 + legend_w + 12;
  TitleBlock tb = title_block(p.title, p.subtitle, width);
  double top = tb.height + 10;
  double height = top + std::max(kPlotH + 52, legend_height(entries, legend_w) + 8);
  Axes a{
      p.log_x, {xr.lo, xr.hi, left, left + kPlotW}, {yr.lo, yr.hi, top + kPlotH, top}, left, top};
  Canvas c(width, height);
  draw_title(c, tb);
  draw_axes(c, p, a, xt, yt);
  draw_references(c, p, a);
  for (size_t k = 0; k < p.series.size(); ++k) {
    Axes shifted = a;  // series k drawn dodge·(k − middle) px aside
    shifted.x.r0 += p.dodge * (static_cast<double>(k) - (p.series.size() - 1) / 2.0);
    shifted.x.r1 += shifted.x.r0 - a.x.r0;
    draw_series(c, p.series[k], shifted);
  }
  draw_legend(c, entries, left + kPlotW + 20, top, legend_w);
  return c.str();
}

}  // namespace ls::svg
