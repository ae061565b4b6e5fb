#pragma once
// Scratch buffers that outlive the call using them (internal to tensor/). A kernel that needs
// a large scratch on every call (the LM head's logits chunk: 100 MiB for GPT-2) leases one and
// returns it, instead of mapping fresh pages each time: above glibc's 32 MiB mmap threshold
// every allocation faults all its pages in again. The pool holds at most as many buffers as
// were ever leased at once (one per thread running the kernel).
#include <cstdint>
#include <mutex>
#include <vector>

#include "tensor/tensor.h"

namespace ls {

class ScratchPool {
 public:
  class Lease {
   public:
    Lease(ScratchPool& pool, Tensor buffer) : pool_(pool), buffer_(std::move(buffer)) {}
    ~Lease() { pool_.give_back(std::move(buffer_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    float* data() const { return buffer_.data(); }

   private:
    ScratchPool& pool_;
    Tensor buffer_;
  };

  // A buffer of exactly `count` floats (a kept one of that size when there is one).
  Lease take(int64_t count);

 private:
  void give_back(Tensor buffer);

  std::mutex mutex_;
  std::vector<Tensor> free_;
};

}  // namespace ls
