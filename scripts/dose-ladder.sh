#!/usr/bin/env bash
# The pretraining-dose ladder (experiments/README.md, "Pretraining dose"): one pretraining of the
# tiny preset's model on the general corpus with snapshots at DOSES tokens per parameter, then
# the study on each snapshot for each configuration of CHOICES.
#
#   scripts/dose-ladder.sh pretrain   # the pretraining and its snapshots (resumable)
#   scripts/dose-ladder.sh adapters   # the study per dose and configuration, lowest dose first;
#                                     # waits for a snapshot that the pretraining has yet to write
#
# Rerun the same command after a stop: the pretraining resumes from its checkpoint and every
# finished job is reused (its settings record matches). The variables below set the ladder.
set -euo pipefail
LORASUM=${LORASUM:-build/lorasum}
DATA=${DATA:-../shared/data/qa}
GENERAL=${GENERAL:-../shared/data/general/train.txt}
RUNS=${RUNS:-runs/dose}
DOSES=${DOSES:-0.1 0.3 1 3 10 30}
CHOICES=${CHOICES:-none all}
SEEDS=${SEEDS:-3}
LR=${LR:-}  # the adapters' learning rate (default: the preset's)
# The compositions scored beside the naive sum (reproduce --compositions; "none" keeps ξ alone,
# the ladder's measure, at a fraction of the evaluation's cost). Default: reproduce's.
COMPOSITIONS=${COMPOSITIONS:-}

# The tiny preset's model: 4 layers, 4 heads, width 128, 128 positions, a BPE of 2048 tokens.
shape="--vocab-size 2048 --n-layer 4 --n-head 4 --n-embd 128 --n-positions 128 --dropout 0"
parameters=$(( (2048 + 128) * 128 + 4 * (12 * 128 * 128 + 13 * 128) + 2 * 128 ))
tokens_of() { awk -v d="$1" -v p="$parameters" 'BEGIN { printf "%d", d * p + 0.5 }'; }

pretrain() {
  local save_at="" max=0 n
  for d in $DOSES; do
    n=$(tokens_of "$d")
    save_at+="${save_at:+,}$n"
    (( n > max )) && max=$n
  done
  # The preset's rate and batch, held constant after the warm-up so that each snapshot is the
  # very model a run of that many tokens makes (a decaying rate depends on the run's length).
  "$LORASUM" pretrain --data "$GENERAL" --out "$RUNS/base" $shape --lr 2e-3 --batch 16 \
    --seq-len 128 --warmup 30 --schedule constant --weight-decay 0 --seed 0 \
    --tokens "$max" --save-at "$save_at" --resume
}

adapters() {
  local n model out
  for d in $DOSES; do
    n=$(tokens_of "$d")
    model="$RUNS/base-tokens$n"
    until [ -f "$model/pretraining.json" ]; do
      echo "dose-ladder: waiting for $model" >&2
      sleep 60
    done
    for c in $CHOICES; do
      out="$RUNS/$(basename "$DATA")-$c${LR:+-lr$LR}/dose-$d"
      echo "dose-ladder: dose $d tokens/parameter ($n tokens), choices $c -> $out" >&2
      "$LORASUM" reproduce --preset tiny --data "$DATA" --model "$model" --study-choices "$c" \
        --seeds "$SEEDS" ${LR:+--lr "$LR"} ${COMPOSITIONS:+--compositions "$COMPOSITIONS"} \
        --no-progress --out "$out"
    done
  done
}

case "${1:-}" in
  pretrain) pretrain ;;
  adapters) adapters ;;
  *) echo "usage: $0 pretrain|adapters (see the comment at its top)" >&2; exit 2 ;;
esac
