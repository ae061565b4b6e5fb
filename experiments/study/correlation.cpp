#include "experiments/study/correlation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "experiments/study/study.h"
#include "tensor/error.h"
#include "tensor/random.h"

namespace ls {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  LS_CHECK(x.size() == y.size(), "pearson of {} and {} values", x.size(), y.size());
  auto spread = [](const std::vector<double>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return *hi > *lo;
  };
  if (x.size() < 2 || !spread(x) || !spread(y)) return std::nan("");
  return least_squares(x, y).pearson_r;
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    double mean_rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
    i = j + 1;
  }
  return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(ranks(x), ranks(y));
}

Estimate bootstrap(PairStatistic statistic, const std::vector<double>& x,
                   const std::vector<double>& y, int resamples, uint64_t seed) {
  Estimate e{statistic(x, y), std::nan(""), std::nan("")};
  if (x.size() < kMinBootstrapRows) return e;
  Rng rng(seed);
  std::vector<double> values, bx(x.size()), by(y.size());
  for (int b = 0; b < resamples; ++b) {
    for (size_t i = 0; i < x.size(); ++i) {
      auto k = std::min(x.size() - 1, static_cast<size_t>(rng.uniform() * double(x.size())));
      bx[i] = x[k];
      by[i] = y[k];
    }
    if (double v = statistic(bx, by); !std::isnan(v)) values.push_back(v);
  }
  if (values.size() < 10) return e;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    return values[static_cast<size_t>(std::lround(q * double(values.size() - 1)))];
  };
  e.lo = at(0.025);
  e.hi = at(0.975);
  return e;
}

}  // namespace ls
