#include "experiments/plots/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls::svg {

Canvas::Canvas(double width, double height) : width_(width), height_(height) {}

void Canvas::shape(const std::string& element, const std::string& attributes, const Style& s,
                   const std::string& tooltip) {
  std::string paint = fmt::format(R"( fill="{}" stroke="{}" stroke-width="{:g}")", escape(s.fill),
                                  escape(s.stroke), s.stroke_width);
  if (tooltip.empty())
    body_ += fmt::format("<{} {}{}/>\n", element, attributes, paint);
  else
    body_ += fmt::format("<{} {}{}><title>{}</title></{}>\n", element, attributes, paint,
                         escape(tooltip), element);
}

void Canvas::rect(double x, double y, double w, double h, const Style& style,
                  const std::string& tooltip) {
  shape("rect", fmt::format(R"(x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}")", x, y, w, h),
        style, tooltip);
}

void Canvas::line(double x1, double y1, double x2, double y2, const Style& style) {
  shape("line", fmt::format(R"(x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}")", x1, y1, x2, y2),
        style, "");
}

void Canvas::text(double x, double y, const std::string& content, const TextStyle& s) {
  std::string rotate;
  if (s.rotate != 0.0)
    rotate = fmt::format(R"x( transform="rotate({:g} {:.1f} {:.1f})")x", s.rotate, x, y);
  body_ += fmt::format(
      R"(<text x="{:.1f}" y="{:.1f}" font-size="{:g}" text-anchor="{}" fill="{}"{}{}>{}</text>)"
      "\n",
      x, y, s.size, escape(s.anchor), escape(s.fill), s.bold ? R"( font-weight="bold")" : "",
      rotate, escape(content));
}

std::string Canvas::gradient(const std::vector<std::pair<double, std::string>>& stops,
                             bool vertical) {
  std::string id = fmt::format("gradient{}", next_id_++);
  defs_ += fmt::format(R"(<linearGradient id="{}" x1="0" y1="0" x2="{}" y2="{}">)"
                       "\n",
                       id, vertical ? 0 : 1, vertical ? 1 : 0);
  for (auto& [offset, colour] : stops)
    defs_ += fmt::format(R"(  <stop offset="{:g}" stop-color="{}"/>)"
                         "\n",
                         offset, escape(colour));
  defs_ += "</linearGradient>\n";
  return "url(#" + id + ")";
}

std::string Canvas::str() const {
  return fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:g}" height="{1:g}" )"
                     R"(viewBox="0 0 {0:g} {1:g}" font-family="Helvetica, Arial, sans-serif">)"
                     "\n<defs>\n{2}</defs>\n"
                     R"(<rect width="100%" height="100%" fill="white"/>)"
                     "\n{3}</svg>\n",
                     width_, height_, defs_, body_);
}

void Canvas::save(const std::string& path) const { write_file_atomic(path, str()); }

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string diverging_colour(double t) {
  t = std::clamp(t, -1.0, 1.0);
  // ColorBrewer RdBu's ends, reached linearly from white.
  double r = t < 0 ? 33 : 178, g = t < 0 ? 102 : 24, b = t < 0 ? 172 : 43, a = std::abs(t);
  auto mix = [&](double end) { return static_cast<int>(std::lround(255 + (end - 255) * a)); };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b));
}

std::string format_value(double v) {
  if (std::isnan(v)) return "n/a";
  return fmt::format("{:.3g}", v);
}

std::vector<double> nice_ticks(double lo, double hi, int count) {
  LS_CHECK(hi > lo && count > 0, "nice_ticks of [{}, {}]", lo, hi);
  double raw = (hi - lo) / count, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / magnitude;
  double step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * magnitude;
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string heatmap(const Heatmap& h) {
  LS_CHECK(h.values.size() == h.rows.size(), "heatmap: {} rows of values for {} labels",
           h.values.size(), h.rows.size());
  for (const auto& row : h.values)
    LS_CHECK(row.size() == h.columns.size(), "heatmap: a row of {} values for {} columns",
             row.size(), h.columns.size());
  const double cell_w = 96, cell_h = 26, left = 96, top = h.subtitle.empty() ? 48 : 66;
  const double grid_w = cell_w * h.columns.size(), grid_h = cell_h * h.rows.size();
  const double bar_x = left + grid_w + 28;
  const double bar_h = std::max({grid_h, 160.0, 0.6 * 12 * h.value_label.size() + 20});
  // Text is measured roughly (0.6 em per character): enough to keep the title on the canvas.
  double title_w = left + 0.6 * 16 * std::max(h.title.size(), h.subtitle.size() * 12 / 16);
  Canvas c(std::max(bar_x + 100, title_w), top + std::max(grid_h, bar_h) + 62);
  double limit = h.limit;
  for (const auto& row : h.values)
    for (double v : row)
      if (h.limit == 0.0 && std::isfinite(v)) limit = std::max(limit, std::abs(v));
  if (limit == 0.0) limit = 1.0;

  c.text(left, 24, h.title, {16, "start", true});
  if (!h.subtitle.empty()) c.text(left, 44, h.subtitle, {12, "start", false, "#555"});
  for (size_t i = 0; i < h.rows.size(); ++i) {
    double y = top + cell_h * i;
    c.text(left - 8, y + cell_h / 2 + 4, h.rows[i], {11, "end"});
    for (size_t j = 0; j < h.columns.size(); ++j) {
      double v = h.values[i][j], x = left + cell_w * j;
      bool known = std::isfinite(v);
      std::string tip = fmt::format("{} {}, {} {}: {}", h.y_label, h.rows[i], h.x_label,
                                    h.columns[j], format_value(v));
      c.rect(x, y, cell_w, cell_h, {known ? diverging_colour(v / limit) : "#dddddd", "white"}, tip);
      std::string ink = known && std::abs(v / limit) > 0.6 ? "white" : "#222";
      c.text(x + cell_w / 2, y + cell_h / 2 + 4, format_value(v), {11, "middle", false, ink});
    }
  }
  for (size_t j = 0; j < h.columns.size(); ++j)
    c.text(left + cell_w * (j + 0.5), top + grid_h + 16, h.columns[j], {11, "middle"});
  c.text(left + grid_w / 2, top + grid_h + 40, h.x_label, {13, "middle", true});
  c.text(24, top + grid_h / 2, h.y_label, {13, "middle", true, "#222", -90});

  // Colour bar: +limit at the top, −limit at the bottom, ticks at round values.
  std::string fill = c.gradient(
      {{0, diverging_colour(1)}, {0.5, diverging_colour(0)}, {1, diverging_colour(-1)}}, true);
  c.rect(bar_x, top, 16, bar_h, {fill, "#888"});
  LinearScale y{limit, -limit, top, top + bar_h};
  for (double t : nice_ticks(-limit, limit, 4)) {
    c.line(bar_x + 16, y(t), bar_x + 21, y(t), {"none", "#444"});
    c.text(bar_x + 24, y(t) + 4, format_value(t), {10});
  }
  c.text(bar_x + 88, top + bar_h / 2, h.value_label, {12, "middle", true, "#222", -90});
  return c.str();
}

}  // namespace ls::svg
