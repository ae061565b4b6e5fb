#!/usr/bin/env bash
# The pretraining-dose ladder (experiments/README.md, "Pretraining dose"): one pretraining of a
# preset's model (tiny by default) on the general corpus with snapshots at DOSES tokens per
# parameter, then the study on each snapshot for each configuration of CHOICES.
#
#   scripts/dose-ladder.sh pretrain   # the pretraining and its snapshots (resumable)
#   scripts/dose-ladder.sh adapters   # the study per dose and configuration, lowest dose first;
#                                     # waits for a snapshot that the pretraining has yet to write
#   scripts/dose-ladder.sh report     # lorasum report over each configuration's finished doses
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
PRESET=${PRESET:-tiny}
# The preset's model and pretraining batch (the tiny preset's by default: 4 layers, 4 heads,
# width 128, 128 positions, a BPE of 2048 tokens, 16 windows of 128 tokens).
VOCAB=${VOCAB:-2048} N_LAYER=${N_LAYER:-4} N_HEAD=${N_HEAD:-4} N_EMBD=${N_EMBD:-128}
N_POSITIONS=${N_POSITIONS:-128} BATCH=${BATCH:-16} SEQ_LEN=${SEQ_LEN:-128}
# The pretraining's rate and warm-up steps (the tiny preset's; mid's are 6e-4 and 100).
PRETRAIN_LR=${PRETRAIN_LR:-2e-3} WARMUP=${WARMUP:-30}
EXTRA=${EXTRA:-}  # more reproduce flags, e.g. "--max-steps 2 --eval-limit 4" for a smoke size

shape="--vocab-size $VOCAB --n-layer $N_LAYER --n-head $N_HEAD --n-embd $N_EMBD"
shape+=" --n-positions $N_POSITIONS --dropout 0"
parameters=$(((VOCAB + N_POSITIONS) * N_EMBD + N_LAYER * (12 * N_EMBD * N_EMBD + 13 * N_EMBD) + 2 * N_EMBD))
tokens_of() { awk -v d="$1" -v p="$parameters" 'BEGIN { printf "%d", d * p + 0.5 }'; }
runs_of() { echo "$RUNS/$(basename "$DATA")-$1${LR:+-lr$LR}"; }

pretrain() {
  local save_at="" max=0 n
  for d in $DOSES; do
    n=$(tokens_of "$d")
    save_at+="${save_at:+,}$n"
    (( n > max )) && max=$n
  done
  # The preset's rate and batch, held constant after the warm-up so that each snapshot is the
  # very model a run of that many tokens makes (a decaying rate depends on the run's length).
  "$LORASUM" pretrain --data "$GENERAL" --out "$RUNS/base" $shape --lr "$PRETRAIN_LR" \
    --batch "$BATCH" --seq-len "$SEQ_LEN" --warmup "$WARMUP" --schedule constant \
    --weight-decay 0 --seed 0 --tokens "$max" --save-at "$save_at" --resume
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
      out="$(runs_of "$c")/dose-$d"
      echo "dose-ladder: dose $d tokens/parameter ($n tokens), choices $c -> $out" >&2
      # shellcheck disable=SC2086  # EXTRA is a list of flags
      "$LORASUM" reproduce --preset "$PRESET" --data "$DATA" --model "$model" --study-choices "$c" \
        --seeds "$SEEDS" ${LR:+--lr "$LR"} ${COMPOSITIONS:+--compositions "$COMPOSITIONS"} \
        $EXTRA --no-progress --out "$out"
    done
  done
}

report() {
  local c d runs
  for c in $CHOICES; do
    runs=()
    for d in $DOSES; do
      [ -f "$(runs_of "$c")/dose-$d/results.json" ] && runs+=("$(runs_of "$c")/dose-$d")
    done
    if [ ${#runs[@]} -eq 0 ]; then
      echo "dose-ladder: no finished dose in $(runs_of "$c")" >&2
      continue
    fi
    "$LORASUM" report --runs "${runs[@]}" --out "$(runs_of "$c")/report"
  done
}

case "${1:-}" in
  pretrain) pretrain ;;
  adapters) adapters ;;
  report) report ;;
  *) echo "usage: $0 pretrain|adapters|report (see the comment at its top)" >&2; exit 2 ;;
esac
