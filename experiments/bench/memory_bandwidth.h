#pragma once
// The memory's read bandwidth, the limit of generation: each new token reads every weight
// matrix once, so tokens/s can be at most (bytes per second read) / (weight bytes).
#include <cstdint>

namespace ls {

// Bytes per second with which all of lorasum's threads sum a float array of `bytes` (far
// larger than the caches), STREAM-style: the best of `repeats` passes after an untimed one.
double read_bandwidth(int64_t bytes, int repeats);

}  // namespace ls
