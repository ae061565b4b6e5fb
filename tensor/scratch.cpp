#include "tensor/scratch.h"

namespace ls {

ScratchPool::Lease ScratchPool::take(int64_t count) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->numel() == count) {
        Tensor buffer = std::move(*it);
        free_.erase(it);
        return Lease(*this, std::move(buffer));
      }
    // Buffers of another size (other shapes than last time) are not kept around.
    free_.clear();
  }
  return Lease(*this, Tensor::empty({count}));
}

void ScratchPool::give_back(Tensor buffer) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(buffer));
}

}  // namespace ls
