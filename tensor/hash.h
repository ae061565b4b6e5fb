#pragma once
// FNV-1a, 64-bit: a fast digest that tells inputs apart (file contents, settings records, what
// each MPI rank was given). Not a cryptographic hash.
#include <cstddef>
#include <cstdint>

namespace ls {

constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

// The digest of `bytes` bytes at `data`, continuing from `h` (chain calls to hash pieces).
inline uint64_t fnv1a(const void* data, size_t bytes, uint64_t h = kFnv1aOffset) {
  auto p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

}  // namespace ls
