#!/usr/bin/env bash
# Kernel launcher of the `rust` kernelspec that `just lab` and `just lab-check` install in
# target/jupyter (scripts/notebook-env.sh): evcxr_jupyter with an EVCXR_TMPDIR of its own.
#
#   evcxr-kernel.sh CONNECTION_FILE        (JupyterLab runs it; EVCXR_TMPDIR comes from the spec)
#
# evcxr builds each cell in the cargo project EVCXR_TMPDIR; two kernels in one project would
# overwrite each other's sources. So each kernel takes a lock: the shared project
# $EVCXR_TMPDIR (warm: its dependencies are built, as scripts/notebooks.sh leaves them) if its
# lock is free, else the first free of $EVCXR_TMPDIR-1 ... -9 (the first :dep there builds the
# dependencies from scratch). The lock is held until the kernel exits. The message goes to
# JupyterLab's log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${EVCXR_TMPDIR:?EVCXR_TMPDIR is set by the kernelspec}"
export PATH="$HOME/.cargo/bin:$PATH"

for i in 0 1 2 3 4 5 6 7 8 9; do
  dir="$base"
  [ "$i" -eq 0 ] || dir="$base-$i"
  mkdir -p "$dir"
  exec 9>"$dir.lock"
  # A restarted kernel's predecessor may still be exiting: give the shared project a moment.
  if { [ "$i" -eq 0 ] && flock -w 5 9; } || flock -n 9; then
    [ -f "$dir/Cargo.lock" ] || cp "$root/Cargo.lock" "$dir/Cargo.lock"
    if [ "$i" -gt 0 ]; then
      echo "evcxr-kernel: $base is in use by another kernel or scripts/notebooks.sh;" \
        "this kernel builds in $dir (a first :dep there compiles everything)" >&2
    fi
    export EVCXR_TMPDIR="$dir"
    exec evcxr_jupyter --control_file "$1"
  fi
  exec 9>&-
done
echo "evcxr-kernel: every project $base, $base-1 ... $base-9 is in use" >&2
exit 1
