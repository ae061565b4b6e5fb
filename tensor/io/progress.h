#pragma once
// A one-line progress bar on stderr: step, loss, learning rate, tokens/s and ETA. On a terminal
// it redraws in place; otherwise (logs, CI) it prints a line every ~10 % of the work.
#include <chrono>
#include <string>

namespace ls {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  // `start` is the step the run began at (resumed runs), so ETA counts only fresh work.
  void set_start(int64_t start) { start_ = start; }
  void update(int64_t done, const std::string& fields, double tokens_per_s = 0.0);
  void finish(const std::string& fields);

 private:
  std::string line(int64_t done, const std::string& fields, double tokens_per_s) const;

  std::string label_;
  int64_t total_, start_ = 0;
  bool enabled_, tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point began_;
};

std::string format_duration(double seconds);

}  // namespace ls
