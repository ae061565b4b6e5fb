#pragma once
// One thread pool for everything: oneTBB runs our kernels and splits large GEMMs, while
// OpenBLAS itself is kept single-threaded so the two never oversubscribe the cores.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstdint>

namespace ls {

// Limits lorasum to n threads (0 = all cores). Keeps OpenBLAS at one thread.
void set_num_threads(int n);
int num_threads();

// Runs fn(begin, end) over [0, n) in chunks of at least `grain` items, in parallel.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  if (n <= grain) {
    fn(int64_t{0}, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { fn(r.begin(), r.end()); });
}

}  // namespace ls
