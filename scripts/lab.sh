#!/usr/bin/env bash
# JupyterLab on notebooks/, with the evcxr Rust kernel set up as scripts/notebooks.sh has it.
#
#   scripts/lab.sh [JUPYTER LAB OPTIONS...]        (`just lab`)
#
# Installs what is missing (scripts/notebook-env.sh: jupyter, evcxr_jupyter and its kernelspec,
# the nbstrip git filter; and jupyterlab from PyPI), writes the `rust` kernelspec of
# target/jupyter (each kernel gets an evcxr project of its own: scripts/evcxr-kernel.sh), then
# runs JupyterLab in the foreground on http://$LAB_IP:$LAB_PORT (default 127.0.0.1 and 8888,
# or a free port if 8888 is taken) with the token $LAB_TOKEN (default: a fresh random one),
# and prints the URL to open. Ctrl-C stops it and its kernels.
#
# JupyterLab saves outputs into notebooks/*.ipynb; the nbstrip filter strips them from what
# git adds (git status may still list such a notebook until `git add` refreshes it; `git diff`
# shows nothing). The first `:dep` cell of a session compiles nmf-core and nmf-plot in evcxr's
# project and shows nothing until it is done (see the README's Notebooks section for times).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say_prefix=lab

# shellcheck source=scripts/notebook-env.sh
. "$root/scripts/notebook-env.sh"

if python3 -c 'import jupyterlab' 2>/dev/null && jupyter lab --version >/dev/null 2>&1; then
  say "jupyterlab present ($(jupyter lab --version))"
else
  say "installing jupyterlab (PyPI)"
  pip_install jupyterlab
  hash -r
fi
nb_lab_kernelspec
say "kernelspec 'rust' for this JupyterLab: $root/target/jupyter/kernels/rust (evcxr builds in $EVCXR_TMPDIR)"

ip="${LAB_IP:-127.0.0.1}"
port="${LAB_PORT:-$(python3 - <<'PY'
import socket
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        return s.getsockname()[1]
print(free(8888) or free(0))
PY
)}"
root_opt=()
[ "$(id -u)" != 0 ] || root_opt=(--allow-root)
token="${LAB_TOKEN:-$(python3 -c 'import secrets; print(secrets.token_hex(24))')}"
url="http://$ip:$port/lab/tree/01-the-note-reproduced.ipynb?token=$token"

say "open $url"
say "(the first run of a :dep cell compiles nmf-core and nmf-plot and shows nothing until done)"
exec jupyter lab \
  --ServerApp.ip="$ip" --ServerApp.port="$port" --ServerApp.port_retries=0 \
  --IdentityProvider.token="$token" \
  --ServerApp.root_dir="$root/notebooks" "${root_opt[@]}" \
  "$@"
