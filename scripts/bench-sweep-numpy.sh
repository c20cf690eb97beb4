#!/usr/bin/env bash
# The sweep benchmark of issue "Sweeps" against a straightforward NumPy loop over the same
# instances with the same per-iteration diagnostics and claim checks (scripts/bench_sweep_numpy.py),
# timed in one run, one core each (nmf-lab --threads 1; NumPy with OPENBLAS_NUM_THREADS=1), and
# the ratio printed; then nmf-lab with both cores. The 15×8, k = 5 MU instances of
# scripts/bench-sweep.sh, INSTANCES × ITERS (default 50 × 1000: the NumPy side alone takes about a minute).
# Each side is timed REPEAT times (default 3), alternating, and the minimum kept (a shared
# machine is noisy). Installs numpy from PyPI if it is missing.
#   Usage: scripts/bench-sweep-numpy.sh [INSTANCES [ITERS [REPEAT]]]
set -euo pipefail
cd "$(dirname "$0")/.."
instances=${1:-50}
iters=${2:-1000}
repeat=${3:-3}
python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
cargo build --release --quiet -p nmf-cli
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/grid.toml" <<TOML
iters = $iters
shapes = [[15, 8, 5]]
data = ["uniform"]
init = ["note"]
seeds = { start = 0, count = $instances }
[[solver]]
name = "mu"
TOML
rust1=inf rust2=inf py=inf
min() { python3 -c "import sys; print(min(float(sys.argv[1]), float(sys.argv[2])))" "$1" "$2"; }
secs() { # wall seconds of a command
  local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$s" "$e"
}
for r in $(seq "$repeat"); do
  rm -rf "$dir/o1" "$dir/o2"
  rust1=$(min "$rust1" "$(secs ./target/release/nmf-lab sweep --grid "$dir/grid.toml" --out "$dir/o1" --threads 1 --quiet)")
  # OpenBLAS tuning variables of this machine distort numpy timings; unset them for NumPy.
  t=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python3 scripts/bench_sweep_numpy.py "$instances" "$iters" | cut -d' ' -f1)
  py=$(min "$py" "$t")
  rust2=$(min "$rust2" "$(secs ./target/release/nmf-lab sweep --grid "$dir/grid.toml" --out "$dir/o2" --threads 2 --quiet)")
  echo "bench-sweep-numpy: round $r of $repeat done" >&2
done
python3 - "$instances" "$iters" "$rust1" "$rust2" "$py" <<'PY'
import sys
inst, iters = int(sys.argv[1]), int(sys.argv[2])
r1, r2, py = map(float, sys.argv[3:])
n = inst * iters
us = lambda s: s / n * 1e6
print(f"bench-sweep-numpy: {inst} instances × {iters} iterations (15×8, k = 5, MU, every claim checked), min of runs")
print(f"  nmf-lab sweep, 1 thread : {r1:8.3f} s  {us(r1):8.2f} µs/iteration")
print(f"  NumPy loop, 1 thread    : {py:8.3f} s  {us(py):8.2f} µs/iteration")
print(f"  nmf-lab sweep, 2 threads: {r2:8.3f} s  {us(r2):8.2f} µs/iteration (wall)")
print(f"  ratio NumPy / nmf-lab (1 thread each): {py / r1:.1f}x; NumPy / nmf-lab on 2 threads: {py / r2:.1f}x")
print(f"  10 000 instances × 1000 iterations would take {r2 / n * 1e7:.1f} s with nmf-lab on 2 threads "
      f"(target ≤ 20 s), {py / n * 1e7 / 60:.0f} min with the NumPy loop")
PY
