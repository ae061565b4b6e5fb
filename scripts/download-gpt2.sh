#!/usr/bin/env bash
# Downloads a GPT-2 checkpoint from the Hugging Face Hub into a lorasum model folder:
#   scripts/download-gpt2.sh [DIR] [MODEL]     (defaults: models/gpt2, gpt2)
# MODEL may be gpt2, gpt2-medium, gpt2-large or gpt2-xl. Needs curl and internet access.
set -euo pipefail
dir=${1:-models/gpt2}
model=${2:-gpt2}
base="https://huggingface.co/${model}/resolve/main"
mkdir -p "$dir"
for file in config.json vocab.json merges.txt model.safetensors; do
  if [ -s "$dir/$file" ]; then
    echo "have $dir/$file"
    continue
  fi
  echo "downloading $model/$file"
  # Into a temporary name first, so an interrupted download never looks complete.
  curl -fL --retry 3 -o "$dir/$file.part" "$base/$file"
  mv "$dir/$file.part" "$dir/$file"
done
echo "done: try  build/lorasum generate --model $dir --prompt 'Hello, I am'"
