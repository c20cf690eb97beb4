#!/usr/bin/env bash
# Times the note's NumPy experiment (10 000 iterations, its own formulas) and
# `nmf-lab reproduce` (same size and iterations, all diagnostics, files written) in one run,
# and prints the ratio. Installs numpy from PyPI if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
cargo build --release --quiet -p nmf-cli
# OpenBLAS tuning variables of this machine distort numpy timings; unset them for this command.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/bench_numpy.py "${1:-10000}"
