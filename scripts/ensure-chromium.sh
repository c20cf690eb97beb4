#!/usr/bin/env bash
# Install Debian's chromium if no Chromium is on PATH (used by notebooks.sh and browser-check.sh).
set -euo pipefail
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null 2>&1; then
    echo "== chromium present ($(command -v "$name"))"
    exit 0
  fi
done
echo "== installing chromium (Debian package)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
