#!/usr/bin/env bash
# Installs the Debian packages lorasum builds against, or the packages named as arguments.
# Idempotent: prints nothing and touches nothing when every package is already present.
set -euo pipefail
# Open MPI runs one training over many processes; GNU parallel runs a plan's jobs at once;
# LAPACKE is the C interface to the LAPACK that QR and SVD use; oneDNN multiplies where the
# CPU has AVX-512.
# clang-format: make test checks that the sources follow .clang-format.
packages=(g++ cmake make pkg-config libopenblas-dev liblapacke-dev libtbb-dev libfmt-dev catch2
          nlohmann-json3-dev libcli11-dev libpcre2-dev libdnnl-dev libopenmpi-dev openmpi-bin parallel
          clang-format)
[ $# -gt 0 ] && packages=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
