#!/usr/bin/env bash
# Times `nmf-lab sweep` on 10 000 instances × 1000 iterations of the note's size (15×8, k = 5,
# MU, uniform data, the note's start), every claim checked, with 1 and with 2 threads, and
# prints µs per iteration per core (wall time × threads / iterations done). Then splits the
# cost on one thread: the run alone against the run with its claims checked (examples/
# sweep_split.rs, on a tenth of the instances). Usage: scripts/bench-sweep.sh [INSTANCES [ITERS]]
set -euo pipefail
cd "$(dirname "$0")/.."
instances=${1:-10000}
iters=${2:-1000}
cargo build --release --quiet -p nmf-cli
cargo build --release --quiet -p nmf-core --example sweep_split
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
for threads in 1 2; do
  start=$(date +%s.%N)
  code=0
  ./target/release/nmf-lab sweep --grid "$dir/grid.toml" --out "$dir/out-$threads" --threads "$threads" --quiet > /dev/null || code=$?
  end=$(date +%s.%N)
  # Iterations actually done (a run may stop early when it stalls).
  done_iters=$(python3 -c "import csv,sys; print(sum(int(r['iterations']) for r in csv.DictReader(open(sys.argv[1]))))" "$dir/out-$threads/results.csv")
  python3 -c "import sys; s, e, t, n, c = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]; w = e - s; print(f'bench-sweep: {sys.argv[6]} instances, {n} iterations, {t} thread(s): {w:.2f} s wall, {w * t / n * 1e6:.2f} µs per iteration per core (exit {c})')" \
    "$start" "$end" "$threads" "$done_iters" "$code" "$instances"
done
cmp -s "$dir/out-1/results.csv" "$dir/out-2/results.csv" && echo "bench-sweep: results.csv byte-identical for 1 and 2 threads"
./target/release/examples/sweep_split $((instances / 10)) "$iters"
