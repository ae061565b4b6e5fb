#!/usr/bin/env bash
# Downloads the data sets the study's code used and converts them to lorasum's layout,
#   DIR/<domain>/{train,test}.jsonl with {"question": ..., "answer": ...} per line:
#   math      MathQA (Problem -> question, Rationale -> answer)
#   medicine  MedQuAD, Hugging Face keivalya/MedQuad-MedicalQnADataset (Question, Answer)
#   finance   Hugging Face virattt/financial-qa-10K (question, answer)
# Each set is deduplicated by question and split into train/test with a fixed seed, so the
# test split never overlaps training. Usage: scripts/download-datasets.sh [DIR] [TEST_FRACTION]
# Needs curl, unzip, python3 (standard library only) and internet access.
set -euo pipefail
dir=${1:-data/qa}
test_fraction=${2:-0.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dir"

echo "MathQA ..."
curl -fL --retry 3 -o "$tmp/MathQA.zip" "https://math-qa.github.io/math-QA/data/MathQA.zip"
unzip -q -o "$tmp/MathQA.zip" -d "$tmp/mathqa"

# Rows of a Hugging Face dataset through the datasets-server API (100 per request).
fetch_rows() {  # dataset out.jsonl
  python3 - "$1" "$2" <<'PY'
import json, sys, urllib.parse, urllib.request
dataset, out = sys.argv[1], sys.argv[2]
base = "https://datasets-server.huggingface.co/rows?"
offset, rows = 0, []
while True:
    query = urllib.parse.urlencode({"dataset": dataset, "config": "default", "split": "train",
                                    "offset": offset, "length": 100})
    with urllib.request.urlopen(base + query, timeout=60) as r:
        page = json.load(r)
    batch = [item["row"] for item in page.get("rows", [])]
    rows += batch
    offset += len(batch)
    if not batch or offset >= page.get("num_rows_total", 0):
        break
with open(out, "w") as f:
    for row in rows:
        f.write(json.dumps(row) + "\n")
print(f"  {len(rows)} rows")
PY
}
echo "MedQuAD ..."
fetch_rows keivalya/MedQuad-MedicalQnADataset "$tmp/medquad.jsonl"
echo "financial-qa-10K ..."
fetch_rows virattt/financial-qa-10K "$tmp/finqa.jsonl"

python3 - "$tmp" "$dir" "$test_fraction" <<'PY'
import glob, json, os, random, sys
tmp, out, test_fraction = sys.argv[1], sys.argv[2], float(sys.argv[3])

def mathqa():
    for path in sorted(glob.glob(os.path.join(tmp, "mathqa", "**", "*.json"), recursive=True)):
        for item in json.load(open(path)):
            yield item["Problem"], item["Rationale"].strip('"')

def jsonl(name, q, a):
    for line in open(os.path.join(tmp, name)):
        row = json.loads(line)
        yield row[q], row[a]

sources = {"math": mathqa(), "medicine": jsonl("medquad.jsonl", "Question", "Answer"),
           "finance": jsonl("finqa.jsonl", "question", "answer")}
for domain, pairs in sources.items():
    seen, examples = set(), []
    for q, a in pairs:
        q, a = (q or "").strip(), (a or "").strip()
        if q and a and q not in seen:
            seen.add(q)
            examples.append({"question": q, "answer": a})
    random.Random(2025).shuffle(examples)
    n_test = max(1, int(len(examples) * test_fraction))
    os.makedirs(os.path.join(out, domain), exist_ok=True)
    for split, rows in (("test", examples[:n_test]), ("train", examples[n_test:])):
        with open(os.path.join(out, domain, split + ".jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{domain}: {len(examples) - n_test} train, {n_test} test")
PY
echo "done: $dir/<domain>/{train,test}.jsonl"
