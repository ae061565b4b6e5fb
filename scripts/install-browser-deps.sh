#!/usr/bin/env bash
# Installs what `make test-browser` needs: Debian's Chromium (run headless), the DejaVu fonts
# the figures declare (their text is measured with DejaVu Sans's advance widths), librsvg2-bin
# (rsvg-convert renders a figure to PNG without a browser) and python3 for tests/browser/run.py.
# Idempotent, as install-deps.sh.
set -euo pipefail
exec bash "$(dirname "$0")/install-deps.sh" chromium fonts-dejavu-core librsvg2-bin python3
