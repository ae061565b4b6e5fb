// libFuzzer target: config.json and adapter_config.json (what is checked: harness.h).
#include "tests/fuzz/harness.h"

LORASUM_FUZZ_TARGET(configs)
