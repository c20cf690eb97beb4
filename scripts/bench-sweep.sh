#!/usr/bin/env bash
# Times `nmf-lab sweep` on 10 000 instances × 1000 iterations of the note's size (15×8, k = 5,
# MU, uniform data, the note's start), every claim checked, with 1 and with 2 threads, and
# prints µs per iteration per core (wall time × threads / iterations done, and CPU time /
# iterations done, which stays meaningful when other processes share the cores). Then splits the
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
  code=0
  /usr/bin/time -f "%e %U %S" -o "$dir/time-$threads" \
    ./target/release/nmf-lab sweep --grid "$dir/grid.toml" --out "$dir/out-$threads" --threads "$threads" --quiet > /dev/null || code=$?
  # Iterations actually done (a run may stop early when it stalls).
  done_iters=$(python3 -c "import csv,sys; print(sum(int(r['iterations']) for r in csv.DictReader(open(sys.argv[1]))))" "$dir/out-$threads/results.csv")
  # Per core two ways: wall × threads (what a dedicated machine gives), and CPU time used (what
  # a shared machine, where other processes take part of the cores, can still measure).
  python3 - "$(cat "$dir/time-$threads")" "$threads" "$done_iters" "$code" "$instances" <<'PY'
import sys
wall, user, sys_ = map(float, sys.argv[1].split())
t, n, code, inst = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
cpu = user + sys_
print(f"bench-sweep: {inst} instances, {n} iterations, {t} thread(s): {wall:.2f} s wall, "
      f"{wall * t / n * 1e6:.2f} µs per iteration per core (wall × threads), "
      f"{cpu / n * 1e6:.2f} µs per iteration of CPU time, {100 * cpu / wall:.0f} % CPU (exit {code})")
PY
done
cmp -s "$dir/out-1/results.csv" "$dir/out-2/results.csv" && echo "bench-sweep: results.csv byte-identical for 1 and 2 threads"
./target/release/examples/sweep_split $((instances / 10)) "$iters"
