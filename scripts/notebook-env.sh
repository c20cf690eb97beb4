# Sourced by scripts/notebooks.sh, scripts/lab.sh and scripts/lab-check.sh (not run on its own):
# installs what the notebooks need where it is missing, and checks where evcxr may build.
#
#   - jupyter, nbconvert, nbclient   from PyPI (pip)
#   - evcxr_jupyter                  cargo install --locked (a cold build takes ~20 min on 2 cores)
#   - the `rust` kernelspec          evcxr_jupyter --install
#   - the nbstrip git filter         scripts/nbstrip.py --install (outputs never get committed)
#
# Expects `root` (the workspace) to be set and the current directory to be it. Exports
# EVCXR_TMPDIR (default /var/tmp/nmf-lab-evcxr) and PATH with ~/.cargo/bin.
#
# evcxr compiles the notebooks' dependencies (nmf-core, nmf-plot and their crates) in its own
# cargo project, EVCXR_TMPDIR itself (not a directory below it). Keeping it between kernels
# and runs means only the first kernel on a machine pays for the dependency build; the
# workspace's Cargo.lock seeds it, so the notebooks build the same crate versions. One kernel
# at a time may use it: scripts/notebooks.sh holds $EVCXR_TMPDIR.lock for its whole run, and
# `just lab`'s kernels take it through scripts/evcxr-kernel.sh. Where it may lie:
#   - outside the workspace (cargo would take it for an undeclared workspace member);
#   - on a path that shares no directory but / with the Rust toolchain (rustc --print sysroot,
#     usually under $HOME): evcxr moves each compiled cell's .so one directory up from where
#     rustc wrote its relative RUNPATH to libstd, which then resolves only because the extra
#     `..` is absorbed at /. Under $HOME every cell fails with "dlopen failed".

export EVCXR_TMPDIR="${EVCXR_TMPDIR:-/var/tmp/nmf-lab-evcxr}"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '== %s: %s\n' "${say_prefix:-notebooks}" "$*"; }

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
if command -v evcxr_jupyter >/dev/null 2>&1; then
  say "evcxr_jupyter present ($(command -v evcxr_jupyter))"
else
  say "installing evcxr_jupyter (cargo install --locked; a cold build takes about 20 minutes)"
  nb_start=$(date +%s)
  cargo install --locked evcxr_jupyter
  say "evcxr_jupyter built in $(($(date +%s) - nb_start)) s"
fi
if jupyter kernelspec list 2>/dev/null | awk '{print $1}' | grep -qx rust; then
  say "kernelspec 'rust' present"
else
  say "installing the evcxr kernelspec 'rust'"
  evcxr_jupyter --install
fi

# --- Outputs stay out of commits --------------------------------------------------------------
python3 "$root/scripts/nbstrip.py" --install | sed "s/^/== ${say_prefix:-notebooks}: /"

# --- Where evcxr builds -----------------------------------------------------------------------
mkdir -p "$EVCXR_TMPDIR"
case "$EVCXR_TMPDIR/" in
  "$root"/*) echo "notebooks: EVCXR_TMPDIR must lie outside the workspace ($root)" >&2; exit 1 ;;
esac
nb_top_of() { printf '%s' "$1" | cut -d/ -f2; }
nb_sysroot=$(rustc --print sysroot)
if [ "$(nb_top_of "$EVCXR_TMPDIR")" = "$(nb_top_of "$nb_sysroot")" ]; then
  echo "notebooks: EVCXR_TMPDIR=$EVCXR_TMPDIR shares /$(nb_top_of "$nb_sysroot") with the" \
    "toolchain ($nb_sysroot); evcxr's cells would fail to load (see scripts/notebook-env.sh)" >&2
  exit 1
fi

# A kernelspec `rust` for JupyterLab (`just lab`, `just lab-check`), in target/jupyter: it
# starts evcxr_jupyter through scripts/evcxr-kernel.sh, which gives each kernel an
# EVCXR_TMPDIR of its own (the shared one when it is free). JUPYTER_PATH puts it before the
# user's own `rust` spec, for the JupyterLab started here only.
nb_lab_kernelspec() {
  local dir="$root/target/jupyter/kernels/rust" user
  mkdir -p "$dir"
  user=$(jupyter kernelspec list 2>/dev/null | awk '$1 == "rust" {print $2}')
  # evcxr's logos and its kernel.js (front-end lint support), from the spec it installed.
  if [ -n "$user" ] && [ "$user" != "$dir" ]; then
    find "$user" -maxdepth 1 -type f ! -name kernel.json -exec cp {} "$dir/" \;
  fi
  python3 - "$dir/kernel.json" "$root/scripts/evcxr-kernel.sh" "$EVCXR_TMPDIR" <<'PY'
import json, sys
path, launcher, tmpdir = sys.argv[1:]
json.dump({
    "argv": ["bash", launcher, "{connection_file}"],
    "display_name": "Rust",
    "language": "rust",
    "interrupt_mode": "message",
    "env": {"EVCXR_TMPDIR": tmpdir},
}, open(path, "w"), indent=1)
PY
  export JUPYTER_PATH="$root/target/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
}
