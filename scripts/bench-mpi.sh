#!/usr/bin/env bash
# Step time of one LoRA training job: one process on 1 and 2 threads, and 2 MPI ranks of one
# thread each (data parallelism), with the first steps' losses of 1 process and 2 ranks.
#   scripts/bench-mpi.sh MODEL_DIR DATA.jsonl [STEPS] [LORASUM]
set -euo pipefail
model=$1 data=$2 steps=${3:-8} lorasum=${4:-build/lorasum}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # harmless when not root
mpi=(mpirun --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none -np 2)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=(--model "$model" --data "$data" --batch 8 --seq-len 128 --max-steps "$steps" --dropout 0.1
      --seed 3 --no-progress)

# The median of a train_log.csv's seconds column, the first step (warm-up) left out.
median_step() {
  tail -n +3 "$1/train_log.csv" | cut -d, -f7 | sort -n |
    awk '{ s[NR] = $1 } END { print s[int((NR + 1) / 2)] }'
}

"$lorasum" train "${args[@]}" --out "$out/1x1" --threads 1 >/dev/null
"$lorasum" train "${args[@]}" --out "$out/1x2" --threads 2 >/dev/null
"${mpi[@]}" "$lorasum" train "${args[@]}" --out "$out/2x1" --threads 1 >/dev/null
echo "| 1 process, 1 thread | 1 process, 2 threads | 2 ranks × 1 thread |"
echo "|---|---|---|"
echo "| $(median_step "$out/1x1") s | $(median_step "$out/1x2") s | $(median_step "$out/2x1") s |"
echo
echo "loss per step, 1 process and 2 ranks:"
paste -d' ' <(tail -n +2 "$out/1x1/train_log.csv" | cut -d, -f3) \
            <(tail -n +2 "$out/2x1/train_log.csv" | cut -d, -f3)
