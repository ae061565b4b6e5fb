#include "tensor/parallel.h"

#include <cblas.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <memory>
#include <mutex>

namespace ls {

namespace {
std::unique_ptr<tbb::global_control> limit;
int threads = 0;
}  // namespace

void set_num_threads(int n) {
  openblas_set_num_threads(1);
  threads = n > 0 ? n : tbb::info::default_concurrency();
  limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                threads);
}

int num_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!limit) set_num_threads(0);
  });
  return threads;
}

}  // namespace ls
