#include "experiments/plots/grid.h"

#include <fmt/format.h>

#include "tensor/error.h"

namespace ls::svg {

namespace {

// The value of attribute `name` in the opening tag `tag`.
std::string attribute(const std::string& tag, const std::string& name) {
  std::string key = " " + name + "=\"";
  size_t at = tag.find(key);
  LS_CHECK(at != std::string::npos, "svg grid: a document's root has no {}", name);
  at += key.size();
  return tag.substr(at, tag.find('"', at) - at);
}

}  // namespace

std::string grid(const std::vector<std::string>& documents, int columns, double cell_width,
                 double cell_height) {
  LS_CHECK(columns > 0, "svg grid of {} columns", columns);
  int rows = (static_cast<int>(documents.size()) + columns - 1) / columns;
  std::string body;
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::string& doc = documents[i];
    size_t open = doc.find("<svg"), close = doc.find('>', open);
    LS_CHECK(open != std::string::npos && close != std::string::npos,
             "svg grid: document {} is not an SVG", i);
    std::string tag = doc.substr(open, close - open);
    // The root becomes a nested <svg> placed in its cell; its viewBox scales it to fit.
    body += fmt::format(R"(<svg x="{:g}" y="{:g}" width="{:g}" height="{:g}" viewBox="{}">)",
                        static_cast<double>(i % columns) * cell_width,
                        static_cast<double>(i / columns) * cell_height, cell_width, cell_height,
                        attribute(tag, "viewBox"));
    body += doc.substr(close + 1) + "\n";
  }
  double width = columns * cell_width, height = rows * cell_height;
  return fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0:g}" height="{1:g}" )"
                     R"(viewBox="0 0 {0:g} {1:g}" font-family="Helvetica, Arial, sans-serif">)"
                     "\n{2}</svg>\n",
                     width, height, body);
}

}  // namespace ls::svg
