#!/usr/bin/env bash
# Execute every notebook in notebooks/ headless on the evcxr Rust kernel and export it as HTML.
#
#   scripts/notebooks.sh [NOTEBOOK.ipynb ...]      (default: notebooks/*.ipynb)
#
# Idempotent: installs only what is missing, skips what is present.
#   - jupyter, nbconvert, nbclient   from PyPI (pip)
#   - evcxr_jupyter                  cargo install --locked (a cold build takes ~20 min on 2 cores)
#   - the `rust` kernelspec          evcxr_jupyter --install
#   - chromium                       Debian package (for scripts/browser-check.sh)
# Then runs each notebook with `jupyter nbconvert --execute` (per-cell timeout
# NB_CELL_TIMEOUT, default 1200 s; any cell error fails the script) into target/notebooks/,
# and exports the executed notebook as target/notebooks/NAME.html with the offline template
# of scripts/nbconvert/offline (no CDN scripts).
#
# evcxr compiles the notebooks' dependencies (nmf-core, nmf-plot and their crates) in its own
# cargo project. EVCXR_TMPDIR (default /var/tmp/nmf-lab-evcxr) keeps that project between
# notebooks and runs, so only the first notebook on a machine pays for the dependency build;
# the workspace's Cargo.lock seeds it so that the notebooks build the same crate versions.
# A lock serializes runs from different checkouts that share it. Where it may lie:
#   - outside the workspace (cargo would take it for an undeclared workspace member);
#   - on a path that shares no directory but / with the Rust toolchain (rustc --print sysroot,
#     usually under $HOME): evcxr moves each compiled cell's .so one directory up from where
#     rustc wrote its relative RUNPATH to libstd, which then resolves only because the extra
#     `..` is absorbed at /. Under $HOME every cell fails with "dlopen failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

out="$root/target/notebooks"
timeout_s="${NB_CELL_TIMEOUT:-1200}"
export EVCXR_TMPDIR="${EVCXR_TMPDIR:-/var/tmp/nmf-lab-evcxr}"

say() { printf '== notebooks: %s\n' "$*"; }

pip_install() {
  python3 -m pip install --quiet "$@" ||
    python3 -m pip install --quiet --break-system-packages "$@"
}

apt_install() {
  if [ -z "${NB_APT_UPDATED:-}" ]; then
    apt-get update -qq
    NB_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# --- Python side: jupyter + nbconvert + nbclient -------------------------------------------
if ! command -v python3 >/dev/null 2>&1; then
  say "installing python3 (Debian)"
  apt_install python3 python3-pip
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  say "installing pip (Debian)"
  apt_install python3-pip
fi
if python3 -c 'import nbconvert, nbclient, jupyter_client, jupyter_core' 2>/dev/null &&
  command -v jupyter >/dev/null 2>&1; then
  say "jupyter, nbconvert, nbclient present ($(python3 -c 'import nbconvert; print("nbconvert", nbconvert.__version__)'))"
else
  say "installing jupyter, nbconvert, nbclient (PyPI)"
  pip_install jupyter nbconvert nbclient
  hash -r
fi

# --- Rust side: evcxr_jupyter and its kernelspec ---------------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if command -v evcxr_jupyter >/dev/null 2>&1; then
  say "evcxr_jupyter present ($(command -v evcxr_jupyter))"
else
  say "installing evcxr_jupyter (cargo install --locked; a cold build takes about 20 minutes)"
  start=$(date +%s)
  cargo install --locked evcxr_jupyter
  say "evcxr_jupyter built in $(($(date +%s) - start)) s"
fi
if jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx rust; then
  say "kernelspec 'rust' present"
else
  say "installing the evcxr kernelspec 'rust'"
  evcxr_jupyter --install
fi

# --- Chromium for scripts/browser-check.sh -------------------------------------------------
bash scripts/ensure-chromium.sh

# --- Execute and export ---------------------------------------------------------------------
mkdir -p "$out" "$EVCXR_TMPDIR"
case "$EVCXR_TMPDIR/" in
  "$root"/*) echo "notebooks: EVCXR_TMPDIR must lie outside the workspace ($root)" >&2; exit 1 ;;
esac
top_of() { printf '%s' "$1" | cut -d/ -f2; }
sysroot=$(rustc --print sysroot)
if [ "$(top_of "$EVCXR_TMPDIR")" = "$(top_of "$sysroot")" ]; then
  echo "notebooks: EVCXR_TMPDIR=$EVCXR_TMPDIR shares /$(top_of "$sysroot") with the toolchain" \
    "($sysroot); evcxr's cells would fail to load (see the comment at the top)" >&2
  exit 1
fi
exec 9>"$EVCXR_TMPDIR.lock"
flock 9
# Seed evcxr's cargo project with the workspace's lock file (versions as in the workspace);
# cargo keeps it up to date from there.
[ -f "$EVCXR_TMPDIR/Cargo.lock" ] || cp Cargo.lock "$EVCXR_TMPDIR/Cargo.lock"

if [ $# -gt 0 ]; then
  notebooks=("$@")
else
  notebooks=(notebooks/*.ipynb)
fi
[ -f "${notebooks[0]}" ] || { echo "notebooks: no notebooks found" >&2; exit 1; }

# Notebooks are committed without outputs (small diffs; outputs are rebuilt here).
python3 - "${notebooks[@]}" <<'PY'
import json, sys
bad = []
for path in sys.argv[1:]:
    nb = json.load(open(path))
    if any(c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
           for c in nb["cells"]):
        bad.append(path)
if bad:
    sys.exit("notebooks: outputs are committed in " + ", ".join(bad) +
             "; clear them: jupyter nbconvert --clear-output --inplace " + " ".join(bad))
PY

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
