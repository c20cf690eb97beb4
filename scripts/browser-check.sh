#!/usr/bin/env bash
# Open HTML pages in headless Chromium, offline, and fail unless every plotly figure rendered
# (an SVG `main-svg` with data lines or points in the DOM, not just the div).
#
#   scripts/browser-check.sh [--min-figures N] [--require TEXT]... [--forbid TEXT]...
#                            [--screenshot DIR] [--allow-remote-scripts] FILE.html...
#
# Installs Debian's chromium if missing. See scripts/browser_check.py for the checks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/ensure-chromium.sh" >/dev/null
exec python3 "$here/browser_check.py" "$@"
