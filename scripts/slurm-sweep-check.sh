#!/usr/bin/env bash
# CI: a sweep run as a Slurm job array on a real single-node cluster, merged by a dependent job,
# must equal the single-process sweep byte for byte.
#   scripts/slurm-sweep-check.sh NMF_LAB_BINARY GRID.toml WORKDIR
# 1. brings the cluster up (scripts/slurm-cluster.sh up; fails, never skips, if it cannot start);
# 2. `nmf-lab sweep --grid GRID --out WORKDIR/single`;
# 3. `nmf-lab sweep slurm --grid GRID --shards 3 --out WORKDIR/slurm`, then WORKDIR/slurm/submit.sh
#    (prints `array <id>` and `merge <id>`);
# 4. polls `squeue -j` until both jobs left the queue (fails fast if the merge can never run,
#    times out after $SLURM_CHECK_TIMEOUT s, default 600), then requires every array task and the
#    merge to be COMPLETED with ExitCode 0:0 (`scontrol show job`: no accounting, so no sacct);
# 5. cmp WORKDIR/slurm/merged/results.{csv,jsonl} against WORKDIR/single's.
# Prints PASS or FAIL; exits non-zero on any failure. Always cancels its own jobs if still queued
# and stops the daemons that its `up` started (a cluster already running is left running).
# Env: SLURM_CHECK_SHARDS (default 3), SLURM_CHECK_TIMEOUT, SLURM_CLUSTER_TIMEOUT (cluster start).
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 NMF_LAB_BINARY GRID.toml WORKDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$(readlink -f "$1")
grid=$(readlink -f "$2")
[ -x "$bin" ] || { echo "slurm-sweep-check: FAIL: $1 is not an executable" >&2; exit 1; }
[ -f "$grid" ] || { echo "slurm-sweep-check: FAIL: no grid $2" >&2; exit 1; }
mkdir -p "$3"
work=$(readlink -f "$3")
shards=${SLURM_CHECK_SHARDS:-3}
timeout=${SLURM_CHECK_TIMEOUT:-600}

# Our own state file: `down` then stops exactly what this run's `up` started.
export SLURM_CLUSTER_STATE=$work/slurm-daemons
# (Not removed first: if an earlier run in this WORKDIR was killed before its trap, `down` below
# also stops the daemons that run left behind.)
rm -rf "$work/single" "$work/slurm"

array_id=
merge_id=
t_start=$SECONDS
say() { echo "slurm-sweep-check: $*"; }
fail() {
  echo "slurm-sweep-check: $*" >&2
  exit 1
}

show_logs() {
  local f
  [ -d "$work/slurm" ] || return 0
  while IFS= read -r f; do
    echo "---- $f" >&2
    tail -n 30 "$f" >&2
  done < <(find "$work/slurm" -type f \( -name '*.out' -o -name '*.err' -o -name '*.log' \) | sort)
  [ -s /var/log/slurm/slurmctld.log ] && { echo "---- tail /var/log/slurm/slurmctld.log" >&2; tail -n 15 /var/log/slurm/slurmctld.log >&2; }
  return 0
}

finish() {
  local rc=$1
  trap - EXIT INT TERM
  set +e
  if [ "$rc" -ne 0 ]; then
    show_logs
    local ids
    ids=$(echo "$array_id $merge_id" | xargs)
    if [ -n "$ids" ] && [ -n "$(squeue -h -j "${ids// /,}" -o %i 2>/dev/null)" ]; then
      say "cancelling our jobs $ids"
      # shellcheck disable=SC2086
      scancel $ids
    fi
  fi
  bash "$here/slurm-cluster.sh" down
  if [ "$rc" -eq 0 ]; then
    say "PASS ($shards-task job array + dependent merge equal the single-process sweep byte for byte; $((SECONDS - t_start)) s)"
  else
    echo "slurm-sweep-check: FAIL (exit $rc after $((SECONDS - t_start)) s)" >&2
  fi
  exit "$rc"
}
trap 'finish $?' EXIT
trap 'exit 130' INT TERM

say "cluster up"
bash "$here/slurm-cluster.sh" up || fail "the Slurm cluster did not start"

say "single-process sweep -> $work/single"
t0=$SECONDS
"$bin" sweep --grid "$grid" --out "$work/single" --quiet || fail "single-process sweep failed"
say "single-process sweep took $((SECONDS - t0)) s"
rows=$(($(wc -l < "$work/single/results.csv") - 1))
[ "$rows" -ge 1 ] || fail "single-process results.csv has no rows"

say "nmf-lab sweep slurm --shards $shards -> $work/slurm"
"$bin" sweep slurm --grid "$grid" --shards "$shards" --out "$work/slurm" || fail "sweep slurm failed"
for f in sweep.sbatch merge.sbatch submit.sh; do
  [ -s "$work/slurm/$f" ] || fail "sweep slurm did not write $work/slurm/$f"
done

t0=$SECONDS
if [ -x "$work/slurm/submit.sh" ]; then
  submitted=$("$work/slurm/submit.sh") || fail "submit.sh failed: $submitted"
else
  submitted=$(bash "$work/slurm/submit.sh") || fail "submit.sh failed: $submitted"
fi
echo "$submitted"
array_id=$(awk '$1 == "array" {print $2}' <<<"$submitted")
merge_id=$(awk '$1 == "merge" {print $2}' <<<"$submitted")
[[ "$array_id" =~ ^[0-9]+$ ]] || fail "submit.sh printed no 'array <id>' line"
[[ "$merge_id" =~ ^[0-9]+$ ]] || fail "submit.sh printed no 'merge <id>' line"
dep=$(scontrol show job -o "$merge_id" 2>/dev/null | grep -o 'Dependency=[^ ]*' || true)
say "merge job $merge_id: $dep"
[[ "$dep" =~ afterok:${array_id}(_|\(|,|$) ]] || [ -z "$(squeue -h -j "$merge_id" -o %i 2>/dev/null)" ] ||
  fail "merge job $merge_id does not depend on afterok:$array_id ($dep)"

say "waiting for array $array_id and merge $merge_id (timeout ${timeout} s)"
while :; do
  queued=$(squeue -h -j "$array_id,$merge_id" -o '%i %T %r' 2>/dev/null || true)
  [ -z "$queued" ] && break
  if grep -q DependencyNeverSatisfied <<<"$queued"; then
    scontrol show job -o "$array_id" | grep -o 'JobId=[^ ]* ArrayJobId=[^ ]* ArrayTaskId=[^ ]*\|JobState=[^ ]*\|ExitCode=[^ ]*' | paste -d' ' - - - >&2 || true
    fail "merge job $merge_id can never run (DependencyNeverSatisfied): an array task failed"
  fi
  [ $((SECONDS - t0)) -lt "$timeout" ] || fail "jobs still queued after ${timeout} s:"$'\n'"$queued"
  sleep 1
done
say "jobs left the queue after $((SECONDS - t0)) s"

# Outcome of every array task and of the merge (kept by slurmctld for MinJobAge seconds).
check_job() { # check_job ID LABEL EXPECTED_RECORDS
  local id=$1 label=$2 want=$3 recs n bad
  recs=$(scontrol show job -o "$id" 2>/dev/null) || fail "$label job $id: scontrol show job failed (purged?)"
  n=$(grep -c 'JobId=' <<<"$recs")
  awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobState|ExitCode)=/) printf "%s ", $i; print ""}' <<<"$recs" |
    sed "s/^/  $label: /"
  [ "$n" -eq "$want" ] || fail "$label job $id: $n records, expected $want"
  bad=$(grep -vc 'JobState=COMPLETED .*ExitCode=0:0' <<<"$recs" || true)
  [ "$bad" -eq 0 ] || fail "$label job $id: $bad task(s) not COMPLETED with ExitCode 0:0"
}
check_job "$array_id" array "$shards"
check_job "$merge_id" merge 1

for f in results.csv results.jsonl; do
  [ -f "$work/slurm/merged/$f" ] || fail "merge wrote no $work/slurm/merged/$f"
  cmp "$work/single/$f" "$work/slurm/merged/$f" || fail "$f: merged differs from the single-process sweep"
  say "$f identical ($(stat -c %s "$work/single/$f") bytes)"
done
say "$rows result rows"
