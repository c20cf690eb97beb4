#!/usr/bin/env bash
# Compare `nmf-lab reproduce` of two binaries: standard output (the output directory's name
# masked) and every file (summary.json without its provenance block, which names the binary,
# the output directory and the commit).
# Usage: scripts/same-output.sh OLD_BINARY NEW_BINARY
set -euo pipefail
old=$1 new=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$old" reproduce --out "$tmp/old" >"$tmp/old.stdout"
"$new" reproduce --out "$tmp/new" >"$tmp/new.stdout"
status=0
if diff <(sed "s#$tmp/old#OUT#g" "$tmp/old.stdout") <(sed "s#$tmp/new#OUT#g" "$tmp/new.stdout") >/dev/null; then
  echo "same      standard output"
else
  echo "DIFFERENT standard output"; status=1
fi
for f in $(cd "$tmp/old" && ls); do
  if [ "$f" = summary.json ]; then
    strip='import json,sys; d=json.load(open(sys.argv[1])); d.pop("provenance",None); print(json.dumps(d,sort_keys=True))'
    if [ "$(python3 -c "$strip" "$tmp/old/$f")" = "$(python3 -c "$strip" "$tmp/new/$f")" ]; then
      echo "same      $f (without provenance)"
    else
      echo "DIFFERENT $f"; status=1
    fi
  elif cmp -s "$tmp/old/$f" "$tmp/new/$f"; then
    echo "same      $f"
  else
    echo "DIFFERENT $f"; status=1
  fi
done
exit $status
