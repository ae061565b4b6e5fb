// libFuzzer target: encoding and decoding arbitrary bytes (what is checked: harness.h).
#include "tests/fuzz/harness.h"

LORASUM_FUZZ_TARGET(tokenizer)
