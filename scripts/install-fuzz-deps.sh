#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond scripts/install-deps.sh: clang and its libFuzzer and
# sanitizer runtimes. Idempotent: prints nothing and touches nothing when clang++ can already
# link a libFuzzer program.
set -euo pipefail
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
links() {
  command -v clang++ >/dev/null 2>&1 &&
    echo "$probe" | clang++ -x c++ -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null
}
links && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-fuzz-deps: installing clang and its libFuzzer runtime"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends clang >/dev/null
# The runtimes are a package of their own on Debian 12 (libclang-rt-<version>-dev); on older
# releases they come with clang.
version=$(clang++ --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
if apt-cache show "libclang-rt-$version-dev" >/dev/null 2>&1; then
  $sudo apt-get install -y -qq --no-install-recommends "libclang-rt-$version-dev" >/dev/null
fi
links || { echo "install-fuzz-deps: clang++ still cannot link a libFuzzer program" >&2; exit 1; }
