#!/usr/bin/env bash
# The adapter learning rate at which a base model's single adapters move as far as at another
# dose: the "move size held fixed" runs of the pretraining-dose ladder (experiments/README.md).
#
#   scripts/dose-matched-lr.sh gain  MODEL DATA LR      # mean in-domain gain at LR
#   scripts/dose-matched-lr.sh match MODEL DATA TARGET  # the LR whose gain is TARGET
#
# DATA holds <domain>/{train,test}.jsonl (a run folder's data/). The gain of a domain is the
# base model's test perplexity over its single adapter's (the tiny preset's uniform settings,
# seed 0); the mean is over math, medicine and finance. `match` bisects log10(LR) in
# [LO, HI] for STEPS steps, prints each try, and then "lr <rate> gain <gain>" for the try whose
# gain came nearest the target: the gain need not rise with the rate all the way (too high a
# rate overshoots), and then bisection's last try is not the nearest.
set -euo pipefail
LORASUM=${LORASUM:-build/lorasum}
LO=${LO:-1e-5}
HI=${HI:-1e-2}
STEPS=${STEPS:-6}
WORK=${WORK:-$(mktemp -d)}

perplexity() {  # MODEL DATA_FILE [ADAPTER]
  "$LORASUM" eval --model "$1" --data "$2" ${3:+--adapter "$3"} --json 2>/dev/null |
    sed -n 's/.*"perplexity":\([0-9.eE+-]*\).*/\1/p'
}

gain() {  # MODEL DATA LR → mean over the domains of base / single perplexity
  local model=$1 data=$2 lr=$3 total=0 base single out
  for d in math medicine finance; do
    out="$WORK/$d-$lr"
    "$LORASUM" train --model "$model" --data "$data/$d/train.jsonl" --out "$out" --rank 4 \
      --alpha 64 --targets c_attn,c_proj --dropout 0.1 --lr "$lr" --epochs 1 --batch 8 \
      --seq-len 128 --warmup 10 --weight-decay 0.01 --seed 0 --no-progress >/dev/null 2>&1
    base=$(perplexity "$model" "$data/$d/test.jsonl")
    single=$(perplexity "$model" "$data/$d/test.jsonl" "$out")
    total=$(awk -v t="$total" -v b="$base" -v s="$single" 'BEGIN { print t + b / s }')
    rm -rf "$out"
  done
  awk -v t="$total" 'BEGIN { printf "%.4f\n", t / 3 }'
}

match() {  # MODEL DATA TARGET
  local lo hi mid lr g best="" best_gain=""
  lo=$(awk -v x="$LO" 'BEGIN { print log(x) / log(10) }')
  hi=$(awk -v x="$HI" 'BEGIN { print log(x) / log(10) }')
  for ((i = 0; i < STEPS; ++i)); do
    mid=$(awk -v a="$lo" -v b="$hi" 'BEGIN { print (a + b) / 2 }')
    lr=$(awk -v m="$mid" 'BEGIN { printf "%.3g", 10 ^ m }')
    g=$(gain "$1" "$2" "$lr")
    echo "try lr $lr gain $g" >&2
    if [ -z "$best" ] || awk -v g="$g" -v b="$best_gain" -v t="$3" \
      'BEGIN { d = g - t; e = b - t; exit !(d * d < e * e) }'; then
      best=$lr best_gain=$g
    fi
    if awk -v g="$g" -v t="$3" 'BEGIN { exit !(g < t) }'; then lo=$mid; else hi=$mid; fi
  done
  echo "lr $best gain $best_gain"
}

case "${1:-}" in
  gain) gain "$2" "$3" "$4" ;;
  match) match "$2" "$3" "$4" ;;
  *) echo "usage: $0 gain MODEL DATA LR | match MODEL DATA TARGET" >&2; exit 2 ;;
esac
