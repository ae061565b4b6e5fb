#pragma once
// Correlation of two samples with a bootstrap interval, for asking which predictor of the
// interference tracks the perplexity change.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ls {

// Pearson's r (NaN with fewer than two points or no spread).
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Ranks 1..n, ties sharing the mean of their ranks.
std::vector<double> ranks(const std::vector<double>& x);
// Spearman's ρ: Pearson's r of the ranks.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

struct Estimate {
  double value = 0.0;
  double lo = 0.0, hi = 0.0;  // percentile bootstrap 95 % interval (NaN when undefined)
};
// The statistic on the pairs (x[i], y[i]) and its interval over `resamples` resamples of the
// pairs with replacement, seeded; resamples where the statistic is undefined are skipped.
// Fewer than kMinBootstrapRows pairs get no interval: resamples of so few repeat the same
// points and give intervals that mean nothing.
constexpr size_t kMinBootstrapRows = 6;
using PairStatistic = double (*)(const std::vector<double>&, const std::vector<double>&);
Estimate bootstrap(PairStatistic statistic, const std::vector<double>& x,
                   const std::vector<double>& y, int resamples = 1000, uint64_t seed = 0);

}  // namespace ls
