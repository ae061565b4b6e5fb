// libFuzzer target: JSONL and plain-text training data (what is checked: harness.h).
#include "tests/fuzz/harness.h"

LORASUM_FUZZ_TARGET(data)
