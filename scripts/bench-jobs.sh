#!/usr/bin/env bash
# Small-model jobs, before and after: `lorasum bench` at the tiny preset's shapes and one real
# LoRA job of `lorasum reproduce`, for two binaries, interleaved in one invocation so that the
# machine's load hits both alike. Prints a markdown table.
#
#   scripts/bench-jobs.sh OLD_BINARY NEW_BINARY RUN_DIR [MEAN_LENGTH]
#
# RUN_DIR is a finished `lorasum reproduce` folder (its base-model/ and data/ are used).
# MEAN_LENGTH: the job's mean tokens per example after truncation, the T at which the bench
# step has the job's shapes (102 for math+finance of the embedded data).
set -euo pipefail

[ $# -ge 3 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
old=$1 new=$2 run=$3 mean=${4:-102}
for f in "$old" "$new"; do [ -x "$f" ] || { echo "bench-jobs: no binary $f" >&2; exit 2; }; done
[ -d "$run/base-model" ] || { echo "bench-jobs: $run has no base-model/" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median ms of one bench figure
bench_ms() {
  local bin=$1 figure=$2; shift 2
  "$bin" bench --config tiny --targets c_attn,c_proj --steps 20 --only "$figure" "$@" |
    awk -v f="$figure" '$1 == f { print $2 }'
}

# wall seconds and logged tokens/s of the math+finance job (the reproduce settings); with a
# CPU list, pinned to it (taskset), which is how one thread is asked of either binary
job() {
  local bin=$1 cpus=${2:-} out=$tmp/job pin=()
  [ -z "$cpus" ] || pin=(taskset -c "$cpus")
  rm -rf "$out"
  local start=$(date +%s.%N)
  "${pin[@]}" "$bin" train --model "$run/base-model" --data "$run/data/math/train.jsonl" \
    --data "$run/data/finance/train.jsonl" --out "$out" --rank 4 --alpha 64 \
    --targets c_attn,c_proj --dropout 0.1 --lr 0.0003 --epochs 1 --batch 8 --seq-len 128 \
    --warmup 10 --weight-decay 0.01 --grad-clip 1 --seed 5 --no-progress >"$tmp/job.out" 2>/dev/null
  local end=$(date +%s.%N)
  printf '%.1f s, %s tok/s' "$(echo "$end - $start" | bc)" "$(awk '/tokens_per_s/ { print $2 }' "$tmp/job.out")"
}

row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
declare -A lora full drop job2 job1
echo "| figure | $(basename "$old") | $(basename "$new") |"
echo "|---|---|---|"
# Figure by figure, the old binary right before the new one.
for bin in "$old" "$new"; do lora[$bin]=$(bench_ms "$bin" lora_train_step --batch 8 --seq 128); done
for bin in "$old" "$new"; do full[$bin]=$(bench_ms "$bin" full_train_step --batch 8 --seq 128); done
# (a binary older than bench --dropout has no figure here)
for bin in "$old" "$new"; do
  drop[$bin]=$(bench_ms "$bin" lora_train_step --batch 8 --seq "$mean" --dropout 0.1 2>/dev/null || true)
done
for bin in "$old" "$new"; do job2[$bin]=$(job "$bin"); done
for bin in "$old" "$new"; do job1[$bin]=$(job "$bin" 0); done
row "LoRA step B=8 T=128 (ms)" "${lora[$old]}" "${lora[$new]}"
row "full step B=8 T=128 (ms)" "${full[$old]}" "${full[$new]}"
row "full / LoRA" "$(echo "scale=2; ${full[$old]} / ${lora[$old]}" | bc)" "$(echo "scale=2; ${full[$new]} / ${lora[$new]}" | bc)"
row "LoRA step B=8 T=$mean dropout 0.1 (ms)" "${drop[$old]:-n/a}" "${drop[$new]:-n/a}"
tokens() { [ -n "$1" ] && echo "8 * $mean * 1000 / $1" | bc || echo "n/a"; }
row "bench tok/s at the job's shapes" "$(tokens "${drop[$old]}")" "$(tokens "${drop[$new]}")"
row "math+finance job, all cores" "${job2[$old]}" "${job2[$new]}"
row "math+finance job, one thread" "${job1[$old]}" "${job1[$new]}"
