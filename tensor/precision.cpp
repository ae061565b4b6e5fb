#include "tensor/precision.h"

#include <atomic>

namespace ls {

namespace {
std::atomic<Precision> current{Precision::f32};
}  // namespace

const char* precision_name(Precision p) { return p == Precision::bf16 ? "bf16" : "f32"; }

std::optional<Precision> parse_precision(std::string_view name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  return std::nullopt;
}

Precision gemm_precision() { return current.load(std::memory_order_relaxed); }

PrecisionScope::PrecisionScope(Precision p) : previous_(current.exchange(p)) {}

PrecisionScope::~PrecisionScope() { current.store(previous_); }

}  // namespace ls
