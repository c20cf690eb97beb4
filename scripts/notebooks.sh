#!/usr/bin/env bash
# Execute every notebook in notebooks/ headless on the evcxr Rust kernel and export it as HTML.
#
#   scripts/notebooks.sh [NOTEBOOK.ipynb ...]      (default: notebooks/*.ipynb)
#
# Idempotent: installs only what is missing, skips what is present (scripts/notebook-env.sh:
# jupyter, nbconvert, nbclient, evcxr_jupyter and its `rust` kernelspec, the nbstrip git
# filter; and chromium, for scripts/browser-check.sh).
# Fails if a notebook is committed (or staged) with outputs; outputs only in the working tree,
# e.g. autosaved by JupyterLab, are reported and ignored (the kernel reruns every cell, and the
# nbstrip filter keeps them out of commits).
# Then runs each notebook with `jupyter nbconvert --execute` (per-cell timeout
# NB_CELL_TIMEOUT, default 1200 s; any cell error fails the script) into target/notebooks/,
# and exports the executed notebook as target/notebooks/NAME.html with the offline template
# of scripts/nbconvert/offline (no CDN scripts).
#
# evcxr builds in EVCXR_TMPDIR (default /var/tmp/nmf-lab-evcxr; see scripts/notebook-env.sh
# for where it may lie). $EVCXR_TMPDIR.lock serializes runs from different checkouts and
# JupyterLab kernels (`just lab`) that share it; this script waits for it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/notebooks"
timeout_s="${NB_CELL_TIMEOUT:-1200}"

# shellcheck source=scripts/notebook-env.sh
. "$root/scripts/notebook-env.sh"

# --- Chromium for scripts/browser-check.sh -------------------------------------------------
bash scripts/ensure-chromium.sh

# --- Execute and export ---------------------------------------------------------------------
mkdir -p "$out"
exec 9>"$EVCXR_TMPDIR.lock"
if ! flock -n 9; then
  say "waiting for $EVCXR_TMPDIR.lock (another scripts/notebooks.sh run, or a JupyterLab kernel" \
    "from 'just lab': shut that kernel down to go on)"
  flock 9
fi
# Seed evcxr's cargo project with the workspace's lock file (versions as in the workspace);
# cargo keeps it up to date from there.
[ -f "$EVCXR_TMPDIR/Cargo.lock" ] || cp Cargo.lock "$EVCXR_TMPDIR/Cargo.lock"

if [ $# -gt 0 ]; then
  notebooks=("$@")
else
  notebooks=(notebooks/*.ipynb)
fi
[ -f "${notebooks[0]}" ] || { echo "notebooks: no notebooks found" >&2; exit 1; }

# Notebooks are committed without outputs (small diffs; outputs are rebuilt here). nbstrip.py
# tells the working tree (JupyterLab's autosave: a note) from the index and HEAD (an error).
python3 scripts/nbstrip.py --check "${notebooks[@]}" | sed 's/^/== notebooks: /'

total_start=$(date +%s)
summary=()
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb" .ipynb)
  say "executing $nb (per-cell timeout ${timeout_s} s)"
  start=$(date +%s)
  # allow_errors is False by default: the first failing cell fails nbconvert and this script.
  jupyter nbconvert --to notebook --execute \
    --ExecutePreprocessor.kernel_name=rust \
    --ExecutePreprocessor.timeout="$timeout_s" \
    --ExecutePreprocessor.startup_timeout=120 \
    --output-dir "$out" --output "$name" "$nb"
  secs=$(($(date +%s) - start))
  jupyter nbconvert --to html \
    --TemplateExporter.extra_template_basedirs="$root/scripts/nbconvert" \
    --template offline \
    --output-dir "$out" --output "$name" "$out/$name.ipynb"
  # nbconvert stops at a cell error; also fail on an error output that slipped through.
  python3 - "$out/$name.ipynb" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
bad = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
       for o in c.get("outputs", []) if o.get("output_type") == "error"]
if bad:
    sys.exit(f"notebooks: {sys.argv[1]}: error output in cell(s) {sorted(set(bad))}")
PY
  size=$(du -h "$out/$name.html" | cut -f1)
  summary+=("$name: executed in ${secs} s, $out/$name.html ($size)")
done
say "done in $(($(date +%s) - total_start)) s"
for line in "${summary[@]}"; do say "$line"; done
