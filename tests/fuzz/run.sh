#!/usr/bin/env bash
# Runs fuzz targets one after another for a bounded time each (used by `make fuzz`):
#   tests/fuzz/run.sh BUILD_DIR SECONDS READER...
# Inputs that find new code go to BUILD_DIR/fuzz-corpus/READER (the seeds in tests/fuzz/corpus
# are only read). A crashing input is saved under BUILD_DIR/fuzz-crashes/READER/; once the bug
# is fixed, copy it to tests/fuzz/regressions/READER/ so that `make test` replays it.
set -euo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=()
for reader in "$@"; do
  corpus="$build/fuzz-corpus/$reader" crashes="$build/fuzz-crashes/$reader"
  log="$build/fuzz-$reader.log"
  mkdir -p "$corpus" "$crashes"
  dict=()
  [ "$reader" != tokenizer ] && dict=(-dict="$here/json.dict")
  echo "fuzz: $reader for ${seconds}s (log: $log)"
  # -timeout catches hangs, -rss_limit_mb huge allocations; each is reported as a crash.
  if nice "$build/tests/fuzz/fuzz_$reader" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$crashes/" \
      "$corpus" "$here/corpus/$reader" >"$log" 2>&1; then
    grep -E "^Done [0-9]+ runs" "$log" || true
  else
    failed+=("$reader")
    tail -n 40 "$log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}; inputs in $build/fuzz-crashes/" >&2
  exit 1
fi
