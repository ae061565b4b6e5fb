// libFuzzer target: safetensors files (what is checked: harness.h).
#include "tests/fuzz/harness.h"

LORASUM_FUZZ_TARGET(safetensors)
