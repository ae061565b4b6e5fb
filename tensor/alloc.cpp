#include "tensor/alloc.h"

#include <malloc.h>

#include <cstdlib>
#include <limits>
#include <new>

namespace ls {

namespace {

// By default glibc hands large freed blocks back to the OS (mmap above a threshold that
// adapts, heap trimming), and every step would fault the same pages in again. Blocks up to
// 32 MiB (the largest threshold glibc allows) now stay in the heap; the peak RSS is the same.
void keep_freed_memory() {
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
    return true;
  }();
  (void)done;
}

}  // namespace

float* alloc_buffer(size_t bytes) {
  keep_freed_memory();
  auto* data = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!data) throw std::bad_alloc();
  return data;
}

void free_buffer(float* data, size_t) { std::free(data); }

}  // namespace ls
