// lorasum plots --from DIR: a run's figures redrawn from its committed JSON alone.
#include <filesystem>

#include "experiments/study/figures.h"
#include "experiments/study/report_page.h"
#include "tensor/io/file_io.h"

namespace ls {

std::vector<std::string> redraw_figures(const std::string& run_dir) {
  RunJson run = read_run_json(run_dir);
  auto figures = as_lorasum_writes(run.path, [&] {
    std::vector<std::pair<std::string, std::string>> out;  // file name, SVG
    if (run.name == "results.json") {
      // A null fit had under 3 points: nothing to draw. A missing one is refused as malformed.
      if (!run.data.contains("fit") || !run.data["fit"].is_null())
        out.push_back({"change_vs_cosine.svg", change_vs_cosine_svg(run.data)});
    } else if (run.name == "ablation.json") {
      out.push_back({"ablation.svg", ablation_svg(run.data)});
    } else {
      out = scale_figures(run.data);
    }
    return out;
  });
  std::vector<std::string> written;
  std::filesystem::create_directories(run_dir + "/plots");
  for (const auto& [name, svg] : figures) {
    written.push_back(run_dir + "/plots/" + name);
    write_file_atomic(written.back(), svg);
  }
  written.push_back(write_report_page(run_dir));
  return written;
}

}  // namespace ls
