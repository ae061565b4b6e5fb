#pragma once
// Memory for tensor buffers (internal to tensor/): 64-byte aligned, and kept by the process
// once freed, so that a training step, which frees and allocates the same large sizes over
// and over, does not pay a page fault per 4 KiB to get them back from the OS each time.
// Buffers above 32 MiB are still mapped afresh; a kernel that needs one every call keeps
// it in a ScratchPool (tensor/scratch.h).
#include <cstddef>

namespace ls {

float* alloc_buffer(size_t bytes);  // bytes: a multiple of 64
void free_buffer(float* data, size_t bytes);

}  // namespace ls
