#!/usr/bin/env bash
# Run a notebook through a live JupyterLab in headless Chromium (scripts/lab_check.py).
#
#   scripts/lab-check.sh [lab_check.py OPTIONS...]     (`just lab-check`; default: notebook 01)
#
# Idempotent installs: what scripts/notebook-env.sh installs, jupyterlab and playwright from
# PyPI, Debian's chromium. Playwright drives the system's Chromium (`playwright install` would
# download a browser of its own, which this project does not rely on). The kernel is the
# `rust` kernelspec of target/jupyter (scripts/evcxr-kernel.sh), as in `just lab`; it builds in
# $EVCXR_TMPDIR when that is free, so after scripts/notebooks.sh the `:dep` cell is warm.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say_prefix=lab-check

# shellcheck source=scripts/notebook-env.sh
. "$root/scripts/notebook-env.sh"

if python3 -c 'import jupyterlab' 2>/dev/null && jupyter lab --version >/dev/null 2>&1; then
  say "jupyterlab present ($(jupyter lab --version))"
else
  say "installing jupyterlab (PyPI)"
  pip_install jupyterlab
  hash -r
fi
if python3 -c 'import playwright.sync_api' 2>/dev/null; then
  say "playwright present ($(python3 -c 'import importlib.metadata as m; print(m.version("playwright"))'))"
else
  say "installing playwright (PyPI; it drives the system's Chromium, no browser download)"
  pip_install playwright
fi
bash scripts/ensure-chromium.sh >/dev/null
nb_lab_kernelspec

exec python3 scripts/lab_check.py "$@"
