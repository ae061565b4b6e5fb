#!/usr/bin/env bash
# Lists the functions of the libraries and the CLI (everything but tests/) longer than LIMIT
# lines, as clang-tidy's readability-function-size counts them (the body, comments and blank
# lines included), and exits 1 if there are any, so that it can gate a change.
#
#   scripts/function-lengths.sh [BUILD_DIR]     (LIMIT=60 by default; JOBS=nproc)
#
# BUILD_DIR holds the compile_commands.json that CMake writes when it configures.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
limit=${LIMIT:-60}
[ -f "$build/compile_commands.json" ] || {
  echo "function-lengths: no $build/compile_commands.json (configure with cmake first)" >&2
  exit 2
}
if ! command -v clang-tidy >/dev/null; then
  echo "function-lengths: installing clang-tidy"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends clang-tidy >/dev/null
fi

folders="tensor autograd nn gpt2 lora experiments"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Headers are checked from the sources that include them; each finding is reported once.
(cd "$root" && find $folders -name '*.cpp' | sort) |
  xargs -P "${JOBS:-$(nproc)}" -I{} clang-tidy -p "$build" --quiet \
    -checks='-*,readability-function-size' \
    -config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: $limit}]}" \
    -header-filter="^$root/(${folders// /|})/" "$root/{}" >"$out" 2>/dev/null || status=$?

# A source clang-tidy could not parse is a source it did not measure: that is a failure too.
if [ "${status:-0}" -ne 0 ]; then
  echo "function-lengths: clang-tidy failed:" >&2
  { grep ': error: ' "$out" || true; } | sort -u >&2
  exit 2
fi
# Each finding is a warning line naming the function, then a note line with its length.
found=$(awk -v root="$root/" '
  /warning: function .* exceeds recommended size/ {
    split($0, parts, ":"); where = parts[1] ":" parts[2]
    if (index(where, root) == 1) where = substr(where, length(root) + 1)
    name = $0; sub(/.*function /, "", name); sub(/ exceeds.*/, "", name)
  }
  /note: [0-9]+ lines including/ && where != "" {
    lines = $0; sub(/.*note: /, "", lines); sub(/ lines.*/, "", lines)
    print lines "\t" where "\t" name; where = ""
  }' "$out" | sort -u | sort -k1,1nr)

if [ -n "$found" ]; then
  echo "Functions over $limit lines:"
  printf '%s\n' "$found"
  exit 1
fi
echo "No function is over $limit lines."
