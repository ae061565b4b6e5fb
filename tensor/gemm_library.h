#pragma once
// Which library multiplies. lorasum's GEMMs (tensor/matmul.cpp) run on oneDNN where oneDNN's
// JIT finds AVX-512, and on OpenBLAS elsewhere; LAPACK (QR, SVD) is always OpenBLAS's.
//
// Measured, GPT-2 Small shapes (M = 1024), one thread: on AVX-512 machines oneDNN's f32
// matmul ran 1.6–1.9× OpenBLAS's AVX2 kernels and its bf16 matmul 3.5×; on a Zen 3 without
// AVX-512 oneDNN's f32 was 0.8–1.07× OpenBLAS and it has no bf16 kernel at all. The
// environment variable LORASUM_GEMM=openblas or onednn overrides the choice, so that `lorasum
// bench` can measure either on the machine at hand.
namespace ls {

enum class GemmLibrary { openblas, onednn };

const char* gemm_library_name(GemmLibrary library);  // "OpenBLAS" or "oneDNN"

// The library that multiplies now: the machine's choice unless a GemmLibraryScope is open.
GemmLibrary gemm_library();

// Whether bf16 products run as bf16 in hardware (oneDNN on AVX-512). Elsewhere a bf16 product
// multiplies float32 copies of the rounded inputs: the same numbers, without the speed.
bool native_bf16();

// Multiplies with `library` until the scope closes (tests and benchmarks compare the two).
// Process-wide, like PrecisionScope.
class GemmLibraryScope {
 public:
  explicit GemmLibraryScope(GemmLibrary library);
  ~GemmLibraryScope();
  GemmLibraryScope(const GemmLibraryScope&) = delete;
  GemmLibraryScope& operator=(const GemmLibraryScope&) = delete;

 private:
  GemmLibrary previous_;
};

}  // namespace ls
