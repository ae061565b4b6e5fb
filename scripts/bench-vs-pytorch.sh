#!/usr/bin/env bash
# `lorasum bench` side by side with the PyTorch reference (../shared/bench/torch_gpt2_lora.py):
# same GPT-2 Small shapes, same machine, one invocation, and a ratio table at the end.
#
#   scripts/bench-vs-pytorch.sh [--threads 2] [--torch-threads 1x2,2p] [--steps N] [--out DIR]
#                               [--quick]
#
# Each configuration runs lorasum (on --threads threads) and then PyTorch right after it, so
# that a change in the machine's load hits both sides alike. PyTorch runs every thread setting
# in --torch-threads and the table compares against its fastest. The LoRA step also runs in
# bf16 (lorasum --precision bf16 beside PyTorch under bf16 autocast). Each figure is also given
# as a fraction of the GEMM throughput at its shapes (its products replayed alone through
# lorasum's GEMM library). --quick: only the LoRA step B=4 T=128, in both precisions.
# Environment: LORASUM (the binary, default build/lorasum), SHARED (default ../shared next to
# the repository).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${LORASUM:-$root/build/lorasum}
shared=${SHARED:-$root/../shared}
torch_script=$shared/bench/torch_gpt2_lora.py
python=/usr/bin/python3
threads=2
torch_threads=1x2,2p
steps=0  # 0: each side's default (5 small, 3 large)
out=""
quick=0

while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --torch-threads) torch_threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-vs-pytorch: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "bench-vs-pytorch: $*" >&2; exit 2; }
[ -x "$bin" ] || fail "no lorasum binary at $bin: build it first (make), or set LORASUM"
[ -f "$torch_script" ] || fail "the PyTorch reference $torch_script is missing (../shared/bench not found; set SHARED)"
[ -x "$python" ] || fail "$python is missing: apt-get install -y python3 python3-torch python3-numpy"
"$python" -c "import torch, numpy" 2>/dev/null ||
  fail "PyTorch is not installed for $python: apt-get install -y python3-torch python3-numpy"

out=${out:-$(mktemp -d /tmp/bench-vs-pytorch.XXXXXX)}
mkdir -p "$out"
reps() { [ "$steps" -gt 0 ] && echo "$steps" || echo "$1"; }

run() {  # run NAME COMMAND...: prints the command, keeps its stdout in $out/NAME.json
  local name=$1; shift
  echo "+ $*" | tee -a "$out/commands.txt" >&2
  "$@" > "$out/$name.json"
}
lorasum() { run "lorasum_$1" "$bin" bench --json "${@:2}"; }
torch() {  # torch CONFIG REPS [AUTOCAST]: progress to stderr, figures to torch_CONFIG[_bf16].json
  local cast=${3:-none} file=$out/torch_$1.json
  [ "$cast" = none ] || file=$out/torch_$1_$cast.json
  echo "+ $python $torch_script --threads $torch_threads --configs $1 --reps $2 --autocast $cast --json $file" |
    tee -a "$out/commands.txt" >&2
  "$python" "$torch_script" --threads "$torch_threads" --configs "$1" --reps "$2" \
    --autocast "$cast" --json "$file" | grep -E "done|FAILED" >&2
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt" >&2
: > "$out/commands.txt"
lorasum lora_b4t128 --only lora_train_step --batch 4 --seq 128 --threads "$threads" --steps "$(reps 5)"
torch lora_b4t128 "$(reps 5)"
lorasum lora_b4t128_bf16 --only lora_train_step --batch 4 --seq 128 --threads "$threads" \
  --steps "$(reps 5)" --precision bf16
torch lora_b4t128 "$(reps 5)" bf16
[ "$quick" = 1 ] || {
lorasum lora_b8t256 --only lora_train_step --batch 8 --seq 256 --threads "$threads" --steps "$(reps 3)"
torch lora_b8t256 "$(reps 3)"
lorasum eval_b8t256 --only eval_forward --eval-batch 8 --eval-seq 256 --threads "$threads" \
  --steps "$(reps 3)"
torch eval_b8t256 "$(reps 3)"
lorasum full_b4t128 --only full_train_step --batch 4 --seq 128 --threads "$threads" --steps "$(reps 5)"
torch full_b4t128 "$(reps 5)"
lorasum one_thread --only lora_train_step --batch 4 --seq 128 --threads 1 --steps "$(reps 3)"
lorasum extras --only generate,merge,similarity --targets c_attn,c_proj --threads "$threads" \
  --steps "$(reps 5)"
}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2

"$python" - "$out" "$quick" <<'EOF'
import json, os, sys

out, quick = sys.argv[1], sys.argv[2] == "1"
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)

def torch_best(config):
    results = load("torch_" + config)["results"]
    if not results:
        sys.exit("bench-vs-pytorch: PyTorch produced no result for " + config)
    return min(results, key=lambda r: r["ms_med"])

rows = []
def ratio_row(label, config, ours, figure, goal):
    best = torch_best(config)
    ours_ms = ours["figures"][figure]["median_ms"]
    gemm_ms = ours["figures"][figure]["gemm_ms"]
    ratio = ours_ms / best["ms_med"]
    rows.append((label, "%.0f ms (%.0f %%)" % (ours_ms, 100 * gemm_ms / ours_ms),
                 "%.0f ms (%s, %.0f %%)" % (best["ms_med"], best["spec"], 100 * gemm_ms / best["ms_med"]),
                 "%.2f" % ratio, goal, "yes" if ratio <= 0.65 else "no"))

b4 = load("lorasum_lora_b4t128")
ratio_row("LoRA train step B=4 T=128, f32", "lora_b4t128", b4, "lora_train_step", "<= 0.65")
ratio_row("LoRA train step B=4 T=128, bf16", "lora_b4t128_bf16", load("lorasum_lora_b4t128_bf16"),
          "lora_train_step", "<= 0.65")
def remaining_rows():
    ratio_row("LoRA train step B=8 T=256", "lora_b8t256", load("lorasum_lora_b8t256"),
              "lora_train_step", "<= 0.65")
    ratio_row("eval forward B=8 T=256", "eval_b8t256", load("lorasum_eval_b8t256"), "eval_forward",
              "<= 0.65")
    ratio_row("full train step B=4 T=128", "full_b4t128", load("lorasum_full_b4t128"),
              "full_train_step", "(none)")
    rows[-1] = rows[-1][:5] + ("-",)
    torch_rss = min(r["peak_rss_mib"] for r in load("torch_lora_b4t128")["results"])
    rows.append(("peak RSS, LoRA B=4 T=128", "%.0f MiB" % b4["peak_rss_mib"], "%.0f MiB" % torch_rss,
                 "%.2f" % (b4["peak_rss_mib"] / torch_rss), "<= 1",
                 "yes" if b4["peak_rss_mib"] <= torch_rss else "no"))
    one = load("lorasum_one_thread")["lora_train_step_ms"]
    scaling = one / b4["lora_train_step_ms"]
    rows.append(("thread scaling, LoRA B=4 T=128", "%.0f ms on 1 thread" % one, "-",
                 "%.2fx" % scaling, ">= 1.8x", "yes" if scaling >= 1.8 else "no"))
    extras = load("lorasum_extras")
    tok = extras["generate_tokens_per_s"]
    rows.append(("generation, KV cache, 1 stream", "%.1f tok/s" % tok, "-", "-", ">= 50 tok/s",
                 "yes" if tok >= 50 else "no"))
    rows.append(("sum 3 adapters + merge (c_attn,c_proj)", "%.0f ms" % extras["merge_ms"], "-", "-",
                 "<= 300 ms", "yes" if extras["merge_ms"] <= 300 else "no"))
    rows.append(("similarity of 2 adapters (c_attn,c_proj)", "%.1f ms" % extras["similarity_ms"],
                 "-", "-", "<= 20 ms", "yes" if extras["similarity_ms"] <= 20 else "no"))

if not quick:
    remaining_rows()

head = ("figure", "lorasum (% of GEMM speed)", "PyTorch (best setting, % of the same)", "ratio",
        "goal", "met")
print()
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
print("\nmedians over timed repetitions; %% of GEMM speed: the figure's products replayed alone "
      "through lorasum's GEMM library (%s), over the figure's time; raw figures and commands in %s"
      % (b4["gemm_library"], out))
EOF
