#pragma once
// The products a piece of work multiplies, and how fast the GEMM library alone runs them: the
// measure `lorasum bench` holds each figure against (the step's time spent outside the bare
// products is what lorasum's own kernels and overheads add).
#include <cstdint>
#include <vector>

namespace ls {

struct GemmShape {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
};

// Records the shape of every gemm call made while it is alive, from any thread. One at a time.
class GemmRecording {
 public:
  GemmRecording();
  ~GemmRecording();
  GemmRecording(const GemmRecording&) = delete;
  GemmRecording& operator=(const GemmRecording&) = delete;
  std::vector<GemmShape> shapes() const;
};

// Multiplies every shape once, in order, on dense operands of fixed values, in the library and
// precision in force; returns the multiply-adds × 2 (the FLOPs) done.
double replay_gemms(const std::vector<GemmShape>& shapes);

// Called by gemm: notes a product when a recording is alive.
void record_gemm(const GemmShape& shape);

}  // namespace ls
