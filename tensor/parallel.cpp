#include "tensor/parallel.h"

#include <cblas.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "tensor/distributed.h"

namespace ls {

namespace {
std::unique_ptr<tbb::global_control> limit;
int threads = 0;
}  // namespace

void set_num_threads(int n) {
  openblas_set_num_threads(1);
  // By default the cores are shared among the MPI ranks on this machine (all of them alone).
  threads = n > 0 ? n : std::max(1, tbb::info::default_concurrency() / world::local_size());
  limit =
      std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
}

int num_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!limit) set_num_threads(0);
  });
  return threads;
}

}  // namespace ls
