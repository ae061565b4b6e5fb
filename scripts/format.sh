#!/usr/bin/env bash
# Checks that every C++ source follows .clang-format (exit 1 naming the files that do not), or
# with --fix rewrites them in place.   scripts/format.sh [--fix]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v clang-format >/dev/null || {
  echo "format: clang-format not found (scripts/install-deps.sh installs it)" >&2
  exit 2
}
mapfile -t files < <(find tensor autograd nn gpt2 lora experiments tests \
                       \( -name '*.h' -o -name '*.cpp' \) | sort)
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
# One clang-format for all files; each finding starts "FILE:LINE:COL: error: ...".
status=0
report=$(clang-format --dry-run --Werror "${files[@]}" 2>&1) || status=$?
mapfile -t unformatted < <(sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' <<<"$report" |
                             sort -u)
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "format: ${#unformatted[@]} file(s) do not follow .clang-format (make format fixes them):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
if [ $status -ne 0 ]; then
  echo "format: clang-format failed:" >&2
  echo "$report" >&2
  exit 2
fi
echo "format: ${#files[@]} files follow .clang-format"
