#!/usr/bin/env bash
# Installs what `make test-browser` needs: Debian's headless-capable Chromium, the DejaVu fonts
# the figures declare (their text widths are measured with DejaVu Sans's metrics), and
# librsvg2-bin, whose rsvg-convert renders a figure to PNG without a browser. Idempotent.
set -euo pipefail
packages=(chromium fonts-dejavu-core librsvg2-bin python3)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-browser-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
