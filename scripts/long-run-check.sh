#!/usr/bin/env bash
# A long run stays bounded: `nmf-lab reproduce --iters N` (default 10⁶) with the trace streamed
# to disk must keep its peak resident memory under 100 MB and write figures.html under 5 MB.
# Prints the measured figures; fails when a bound is exceeded.
#   scripts/long-run-check.sh [N] [--with-trace]   (--with-trace also writes trace.csv/json, ~2.7 GB at 10⁶)
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-1000000}
outputs=summary,figures,factors
[ "${2:-}" = "--with-trace" ] && outputs=trace,summary,figures,factors
cargo build --release -q -p nmf-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f '%M %e' -o "$out/time" ./target/release/nmf-lab reproduce --iters "$iters" --quiet \
  --outputs "$outputs" --out "$out/r" > /dev/null
read -r rss_kb secs < "$out/time"
fig=$(stat -c %s "$out/r/figures.html")
echo "long-run-check: $iters iterations in ${secs} s, peak RSS $((rss_kb / 1024)) MB (bound 100), figures.html $((fig / 1024)) KiB (bound 5120), outputs $outputs"
[ "$rss_kb" -lt $((100 * 1024)) ] || { echo "long-run-check: peak memory over 100 MB" >&2; exit 1; }
[ "$fig" -lt $((5 * 1024 * 1024)) ] || { echo "long-run-check: figures.html over 5 MB" >&2; exit 1; }
