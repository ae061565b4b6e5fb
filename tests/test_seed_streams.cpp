// The seed streams each part of the project defines (tensor/random.h's mechanism): their
// seeds stay those that saved jobs and checkpoints were made with, and no two streams agree.
#include <catch2/catch.hpp>

#include "experiments/app/training.h"
#include "gpt2/training/trainer.h"
#include "lora/adapter.h"
#include "lora/compose.h"

using namespace ls;

TEST_CASE("every seed stream keeps its seeds, and streams differ", "[tensor][random]") {
  // By hand: the 4th index (3 counted from 0) of a stride stream adds 4 strides, and
  // mix(a, b) = a·0x9e3779b97f4a7c15 ^ (b + 0x632be59bd9b4e019) mod 2^64.
  CHECK(derive_seed(42, kModelDropoutSeeds, 3) == 31718);     // 42 + 7919·4
  CHECK(derive_seed(42, kAdapterInitSeeds, 3) == 4000054);    // 42 + 1000003·4
  CHECK(derive_seed(42, kAdapterDropoutSeeds, 3) == 418958);  // 42 + 104729·4
  CHECK(derive_seed(42, kLayerDropoutSeeds) == 0x5ec7);       // 0x2a ^ 0x5eed
  CHECK(derive_seed(42, kAdaptersOfModelSeeds) == 0xada954);  // 0x2a ^ 0xada97e
  CHECK(derive_seed(42, kSubsampleSeeds) == 0x5b5a4d91e7c3a1d9ULL);
  CHECK(derive_seed(42, kEpochOrderSeeds, 3) == 0x96321df53b8cbb6eULL);   // mix(42, 3)
  CHECK(derive_seed(42, kStepDropoutSeeds, 3) == 0xf07a97b3b836379bULL);  // mix(43, 3)
  CHECK(derive_seed(42, kMergeModuleSeeds, 3) == 0x78dde6e5fd29f07eULL);  // 42 ^ 4·golden

  const SeedStream streams[] = {kModelDropoutSeeds, kAdapterInitSeeds,     kAdapterDropoutSeeds,
                                kLayerDropoutSeeds, kAdaptersOfModelSeeds, kSubsampleSeeds,
                                kEpochOrderSeeds,   kStepDropoutSeeds,     kMergeModuleSeeds};
  for (size_t i = 0; i < std::size(streams); ++i)
    for (size_t j = i + 1; j < std::size(streams); ++j)
      for (uint64_t index = 0; index < 4; ++index) {
        INFO("streams " << i << " and " << j << ", index " << index);
        CHECK(derive_seed(42, streams[i], index) != derive_seed(42, streams[j], index));
      }
}
