#include "tensor/io/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace ls {

std::string format_duration(double seconds) {
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO)),
      began_(std::chrono::steady_clock::now()) {}

std::string ProgressBar::line(int64_t done, const std::string& fields, double tokens_per_s) const {
  constexpr int kWidth = 24;
  int filled = static_cast<int>(kWidth * done / total_);
  std::string bar = std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                    std::string(std::max(0, kWidth - filled - 1), ' ');
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  int64_t fresh = done - start_;
  double eta =
      fresh > 0 ? elapsed / static_cast<double>(fresh) * static_cast<double>(total_ - done) : 0.0;
  std::string speed = tokens_per_s > 0 ? fmt::format(" {:.0f} tok/s", tokens_per_s) : "";
  return fmt::format("{} [{}] {}/{} {}{} ETA {}", label_, bar, done, total_, fields, speed,
                     format_duration(eta));
}

void ProgressBar::update(int64_t done, const std::string& fields, double tokens_per_s) {
  if (!enabled_) return;
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line(done, fields, tokens_per_s).c_str());
    std::fflush(stderr);
    return;
  }
  int decile = static_cast<int>(10 * done / total_);
  if (decile == last_decile_) return;
  last_decile_ = decile;
  std::fprintf(stderr, "%s\n", line(done, fields, tokens_per_s).c_str());
}

void ProgressBar::finish(const std::string& fields) {
  if (!enabled_) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  std::fprintf(stderr, "%s%s done: %s in %s\n", tty_ ? "\r\033[K" : "", label_.c_str(),
               fields.c_str(), format_duration(elapsed).c_str());
}

}  // namespace ls
