#include "experiments/study/report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "experiments/plots/svg.h"
#include "experiments/plots/text_metrics.h"
#include "tensor/io/file_io.h"

namespace ls::html {

namespace fs = std::filesystem;

std::string esc(const std::string& text) { return svg::escape(text); }

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<div class=\"wide\"><table>\n<thead><tr>";
  for (const std::string& h : header) out += "<th>" + h + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& cell : row) out += "<td>" + cell + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string settings_table(const std::vector<std::pair<std::string, std::string>>& settings) {
  std::string out = "<table class=\"settings\">\n";
  for (const auto& [name, value] : settings)
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", esc(name), esc(value));
  return out + "</table>\n";
}

std::string details(const std::string& summary, const std::string& body) {
  return "<details><summary>" + esc(summary) + "</summary>\n" + body + "</details>\n";
}

namespace {

// Where a figure goes on the page: the study's main figures first, then by name.
int figure_rank(const std::string& name) {
  static const char* order[] = {"change_vs_cosine", "scale.",  "scale_cos",
                                "ablation",         "cosine_", "training_curves"};
  for (size_t i = 0; i < std::size(order); ++i)
    if (name.rfind(order[i], 0) == 0) return static_cast<int>(i);
  return static_cast<int>(std::size(order));
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

}  // namespace

std::string figures(const std::string& run_dir) {
  std::vector<std::string> names;
  if (fs::is_directory(run_dir + "/plots"))
    for (const auto& e : fs::directory_iterator(run_dir + "/plots"))
      if (e.path().extension() == ".svg") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return std::pair{figure_rank(a), a} < std::pair{figure_rank(b), b};
  });
  std::string out;
  for (size_t k = 0; k < names.size(); ++k) {
    std::string prefix = fmt::format("f{}-", k);
    std::string svg =
        replace_all(read_file(run_dir + "/plots/" + names[k]), "id=\"", "id=\"" + prefix);
    svg = replace_all(svg, "url(#", "url(#" + prefix);
    out += fmt::format(
        "<figure>\n{}<figcaption><a href=\"plots/{}\">plots/{}</a></figcaption>\n</figure>\n", svg,
        esc(names[k]), esc(names[k]));
  }
  return out;
}

std::string links(const std::string& run_dir, const std::vector<std::string>& files) {
  std::string out = "<ul class=\"files\">\n";
  for (const std::string& f : files)
    if (fs::exists(run_dir + "/" + f))
      out += fmt::format("<li><a href=\"{0}\">{0}</a></li>\n", esc(f));
  return out + "</ul>\n";
}

std::string page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>\n"
      "body {{ font-family: {1}; color: #222; max-width: 1100px; margin: 24px auto; "
      "padding: 0 16px; line-height: 1.45; }}\n"
      "h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 1.8em; "
      "border-bottom: 1px solid #ddd; }}\n"
      "table {{ border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }}\n"
      "th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}\n"
      "thead th {{ background: #f2f2f2; }} table.settings th {{ background: #f7f7f7; }}\n"
      ".wide {{ overflow-x: auto; }} td {{ font-variant-numeric: tabular-nums; white-space: "
      "nowrap; }}\n"
      "table.settings td {{ white-space: normal; }} .study {{ color: #555; font-style: italic; }}\n"
      "figure {{ margin: 1.2em 0; }} figure svg {{ max-width: 100%; height: auto; "
      "border: 1px solid #eee; }}\n"
      "figcaption {{ font-size: 0.85em; color: #555; }}\n"
      "details {{ margin: 0.8em 0; }} summary {{ cursor: pointer; font-weight: bold; }}\n"
      "</style>\n</head>\n<body>\n<h1>{0}</h1>\n{2}</body>\n</html>\n",
      esc(title), svg::kFontFamily, body);
}

}  // namespace ls::html
