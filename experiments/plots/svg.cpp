#include "experiments/plots/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/plots/text_metrics.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls::svg {

Canvas::Canvas(double width, double height) : width_(width), height_(height) {}

void Canvas::shape(const std::string& element, const std::string& attributes, const Style& s,
                   const std::string& tooltip) {
  std::string paint = fmt::format(R"( fill="{}" stroke="{}" stroke-width="{:g}")", escape(s.fill),
                                  escape(s.stroke), s.stroke_width);
  if (!s.dash.empty()) paint += fmt::format(R"( stroke-dasharray="{}")", escape(s.dash));
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

void Canvas::circle(double x, double y, double r, const Style& style, const std::string& tooltip) {
  shape("circle", fmt::format(R"(cx="{:.1f}" cy="{:.1f}" r="{:g}")", x, y, r), style, tooltip);
}

void Canvas::path(const std::string& d, const Style& style, const std::string& tooltip) {
  shape("path", fmt::format(R"(d="{}")", escape(d)), style, tooltip);
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

void Canvas::clip_begin(double x, double y, double w, double h) {
  std::string id = fmt::format("clip{}", next_id_++);
  defs_ += fmt::format(R"(<clipPath id="{}"><rect x="{:.1f}" y="{:.1f}" width="{:.1f}" )"
                       R"(height="{:.1f}"/></clipPath>)"
                       "\n",
                       id, x, y, w, h);
  body_ += fmt::format(R"x(<g clip-path="url(#{})">)x"
                       "\n",
                       id);
}

void Canvas::clip_end() { body_ += "</g>\n"; }

std::string Canvas::str() const {
  return fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:g}" height="{1:g}" )"
                     R"(viewBox="0 0 {0:g} {1:g}" font-family="{4}">)"
                     "\n<defs>\n{2}</defs>\n"
                     R"(<rect width="100%" height="100%" fill="white"/>)"
                     "\n{3}</svg>\n",
                     width_, height_, defs_, body_, kFontFamily);
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

std::string series_colour(const std::string& name) {
  // Okabe–Ito's colour-blind-safe hues for the pairs and the triple, darker tones for singles.
  static const std::map<std::string, std::string> fixed = {{"math+medicine", "#0072b2"},
                                                           {"math+finance", "#d55e00"},
                                                           {"medicine+finance", "#009e73"},
                                                           {"math+medicine+finance", "#cc79a7"},
                                                           {"math", "#56b4e9"},
                                                           {"medicine", "#e69f00"},
                                                           {"finance", "#7f7f7f"},
                                                           {"random", "#666666"}};
  static const char* others[] = {"#8c564b", "#9467bd", "#bcbd22", "#17becf", "#e377c2"};
  auto found = fixed.find(name);
  if (found != fixed.end()) return found->second;
  size_t h = 0;
  for (unsigned char c : name) h = h * 31 + c;
  return others[h % std::size(others)];
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

namespace {

// The laid-out sizes of a heatmap, every one from the widths of the text it must hold.
struct HeatmapLayout {
  double cell_w, cell_h = 26, left, top, grid_w, grid_h, bar_x, bar_h, width, height;
  std::vector<std::string> title, subtitle;
};

HeatmapLayout heatmap_layout(const Heatmap& h, double limit) {
  HeatmapLayout L;
  double widest_cell = 0, widest_row = 0, widest_tick = 0;
  for (const auto& row : h.values)
    for (double v : row) widest_cell = std::max(widest_cell, text_width(format_value(v), 11));
  for (const auto& c : h.columns) widest_cell = std::max(widest_cell, text_width(c, 11));
  for (const auto& r : h.rows) widest_row = std::max(widest_row, text_width(r, 11));
  for (double t : nice_ticks(-limit, limit, 4))
    widest_tick = std::max(widest_tick, text_width(format_value(t), 10));
  L.cell_w = std::max(56.0, widest_cell + 14);
  L.left = 36 + widest_row + 8;
  L.grid_w = L.cell_w * static_cast<double>(h.columns.size());
  L.grid_h = L.cell_h * static_cast<double>(h.rows.size());
  L.bar_x = L.left + L.grid_w + 20;
  L.width = std::max(L.bar_x + 16 + 8 + widest_tick + 30, L.left + text_width(h.x_label, 13, true));
  // The title wraps to the canvas rather than widening it into blank space.
  L.title = wrap(h.title, 16, L.width - 24, true);
  L.subtitle = wrap(h.subtitle, 12, L.width - 24);
  L.width = std::max(L.width, 24 + text_width(L.title.front(), 16, true));
  L.top = 14 + 20.0 * L.title.size() + 16.0 * L.subtitle.size() + 8;
  L.bar_h = std::max({L.grid_h, text_width(h.value_label, 12, true) + 16, 100.0});
  L.height = L.top + std::max(L.grid_h + 52, L.bar_h + 12);
  return L;
}

// Colour bar: +limit at the top, −limit at the bottom, ticks at round values.
void colour_bar(Canvas& c, const Heatmap& h, const HeatmapLayout& L, double limit) {
  std::string fill = c.gradient(
      {{0, diverging_colour(1)}, {0.5, diverging_colour(0)}, {1, diverging_colour(-1)}}, true);
  c.rect(L.bar_x, L.top, 16, L.bar_h, {fill, "#888"});
  LinearScale y{limit, -limit, L.top, L.top + L.bar_h};
  double widest = 0;
  for (double t : nice_ticks(-limit, limit, 4)) {
    c.line(L.bar_x + 16, y(t), L.bar_x + 21, y(t), {"none", "#444"});
    c.text(L.bar_x + 24, y(t) + 4, format_value(t), {10});
    widest = std::max(widest, text_width(format_value(t), 10));
  }
  c.text(L.bar_x + 24 + widest + 16, L.top + L.bar_h / 2, h.value_label,
         {12, "middle", true, "#222", -90});
}

double heatmap_limit(const Heatmap& h) {
  double limit = h.limit;
  for (const auto& row : h.values)
    for (double v : row)
      if (h.limit == 0.0 && std::isfinite(v)) limit = std::max(limit, std::abs(v));
  return limit == 0.0 ? 1.0 : limit;
}

}  // namespace

std::string heatmap(const Heatmap& h) {
  LS_CHECK(h.values.size() == h.rows.size(), "heatmap: {} rows of values for {} labels",
           h.values.size(), h.rows.size());
  for (const auto& row : h.values)
    LS_CHECK(row.size() == h.columns.size(), "heatmap: a row of {} values for {} columns",
             row.size(), h.columns.size());
  double limit = heatmap_limit(h);
  HeatmapLayout L = heatmap_layout(h, limit);
  Canvas c(L.width, L.height);
  for (size_t i = 0; i < L.title.size(); ++i)
    c.text(12, 30 + 20.0 * i, L.title[i], {16, "start", true});
  for (size_t i = 0; i < L.subtitle.size(); ++i)
    c.text(12, 30 + 20.0 * L.title.size() + 16.0 * i - 2, L.subtitle[i],
           {12, "start", false, "#555"});
  for (size_t i = 0; i < h.rows.size(); ++i) {
    double y = L.top + L.cell_h * i;
    c.text(L.left - 8, y + L.cell_h / 2 + 4, h.rows[i], {11, "end"});
    for (size_t j = 0; j < h.columns.size(); ++j) {
      double v = h.values[i][j], x = L.left + L.cell_w * j;
      bool known = std::isfinite(v);
      std::string tip = fmt::format("{} {}, {} {}: {}", h.y_label, h.rows[i], h.x_label,
                                    h.columns[j], format_value(v));
      c.rect(x, y, L.cell_w, L.cell_h, {known ? diverging_colour(v / limit) : "#dddddd", "white"},
             tip);
      std::string ink = known && std::abs(v / limit) > 0.6 ? "white" : "#222";
      c.text(x + L.cell_w / 2, y + L.cell_h / 2 + 4, format_value(v), {11, "middle", false, ink});
    }
  }
  for (size_t j = 0; j < h.columns.size(); ++j)
    c.text(L.left + L.cell_w * (j + 0.5), L.top + L.grid_h + 16, h.columns[j], {11, "middle"});
  c.text(L.left + L.grid_w / 2, L.top + L.grid_h + 40, h.x_label, {13, "middle", true});
  c.text(20, L.top + L.grid_h / 2, h.y_label, {13, "middle", true, "#222", -90});
  colour_bar(c, h, L, limit);
  return c.str();
}

}  // namespace ls::svg
