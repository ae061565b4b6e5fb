#include "tensor/gemm_library.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "tensor/error.h"
#include "tensor/gemm_kernels.h"

namespace ls {

namespace {

// LORASUM_GEMM=openblas or onednn overrides the choice (to measure one against the other).
GemmLibrary machine_choice() {
  static const GemmLibrary choice = [] {
    const char* forced = std::getenv("LORASUM_GEMM");
    std::string_view name = forced ? forced : "";
    if (name == "openblas" || name == "onednn")
      return name == "onednn" ? GemmLibrary::onednn : GemmLibrary::openblas;
    if (!name.empty())
      input_error("LORASUM_GEMM={} is not a GEMM library: use openblas or onednn", name);
    return detail::onednn_has_avx512() ? GemmLibrary::onednn : GemmLibrary::openblas;
  }();
  return choice;
}

// -1: no scope open, the machine's choice holds.
std::atomic<int> chosen{-1};

}  // namespace

const char* gemm_library_name(GemmLibrary library) {
  return library == GemmLibrary::onednn ? "oneDNN" : "OpenBLAS";
}

GemmLibrary gemm_library() {
  int c = chosen.load(std::memory_order_relaxed);
  return c < 0 ? machine_choice() : static_cast<GemmLibrary>(c);
}

bool native_bf16() { return gemm_library() == GemmLibrary::onednn && detail::onednn_has_bf16(); }

GemmLibraryScope::GemmLibraryScope(GemmLibrary library) : previous_(gemm_library()) {
  chosen.store(static_cast<int>(library));
}

GemmLibraryScope::~GemmLibraryScope() { chosen.store(static_cast<int>(previous_)); }

}  // namespace ls
