#pragma once
// Several SVG charts as one figure: each document scaled into a cell of a grid.
#include <string>
#include <vector>

namespace ls::svg {

// The documents (each as Canvas::str writes it, with a viewBox) laid out `columns` to a row,
// each drawn into a cell_width × cell_height cell keeping its own coordinates.
std::string grid(const std::vector<std::string>& documents, int columns, double cell_width,
                 double cell_height);

}  // namespace ls::svg
