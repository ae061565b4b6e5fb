// libFuzzer target: vocab.json + merges.txt (what is checked: harness.h).
#include "tests/fuzz/harness.h"

LORASUM_FUZZ_TARGET(bpe_files)
