#!/usr/bin/env bash
# Wide against tall: `nmf-lab run` on the digits matrix without its zero columns (1797×61) and
# on its transpose (61×1797), rank 10, 200 iterations, every diagnostic and the note's columns
# on. Before the note's VᵀV spectrum came from the k×k VVᵀ, the wide run formed a 1797×1797
# matrix per iteration (5.7 s each). Times both sides in one run (minimum of 3 each,
# interleaved) and prints the ratio wide / tall.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nmf-cli
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Drop the all-zero columns 1, 33, 40 (1-based) and write the transpose with awk.
awk -F, -v OFS=, '{ $1 = ""; $33 = ""; $40 = ""; out = ""; for (i = 1; i <= NF; i++) if ($i != "") out = out (out == "" ? "" : ",") $i; print out }' \
  data/digits.csv > "$dir/tall.csv"
awk -F, '{ for (i = 1; i <= NF; i++) a[i, NR] = $i; if (NF > nf) nf = NF } END { for (i = 1; i <= nf; i++) { line = a[i, 1]; for (j = 2; j <= NR; j++) line = line "," a[i, j]; print line } }' \
  "$dir/tall.csv" > "$dir/wide.csv"
best() { python3 -c 'import sys; print(min(map(float, sys.argv[1:])))' "$@"; }
tall=() wide=()
for _ in 1 2 3; do
  for shape in tall wide; do
    start=$(date +%s.%N)
    ./target/release/nmf-lab run --data "$dir/$shape.csv" --rank 10 --iters 200 --quiet \
      --out "$dir/out-$shape" > /dev/null
    t=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
    if [ "$shape" = tall ]; then tall+=("$t"); else wide+=("$t"); fi
  done
done
t=$(best "${tall[@]}"); w=$(best "${wide[@]}")
python3 -c "import sys; t, w = map(float, sys.argv[1:]); print(f'bench-wide: 1797x61 {t:.3f} s, 61x1797 {w:.3f} s, wide/tall = {w / t:.2f} (200 iterations, rank 10, minimum of 3)')" "$t" "$w"
