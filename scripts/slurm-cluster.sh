#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing `nmf-lab sweep slurm` for real.
#   scripts/slurm-cluster.sh up       install slurm-wlm + munge if missing, configure, start, wait idle
#   scripts/slurm-cluster.sh down     stop the daemons that `up` started (and only those)
#   scripts/slurm-cluster.sh status   sinfo (and which daemons run)
# Needs root (CI runs as root in a container without systemd: daemons are started directly).
# Idempotent: `up` installs only what is missing, writes a munge key only if there is none, starts
# only daemons that are not running, and records the PIDs of the ones it started in a state file
# ($SLURM_CLUSTER_STATE, default /run/nmf-lab-slurm/daemons); `down` stops exactly those. A caller
# that must not stop a cluster someone else left running (scripts/slurm-sweep-check.sh) points
# SLURM_CLUSTER_STATE at a fresh file of its own. `up` fails (exit 1, with the tail of the logs) if
# the node is not idle within $SLURM_CLUSTER_TIMEOUT seconds (default 60): CI must fail, not skip.
#
# ---------------------------------------------------------------------------------------------
# Reference (measured on Debian bookworm: slurm-wlm 22.05.8, munge 0.5.15, 2 cores, no systemd)
# ---------------------------------------------------------------------------------------------
# The sbatch scripts that ran here (a 3-task array + a dependent merge), as `sweep slurm` should
# write them (DIR and the binary as absolute paths; #SBATCH lines expand no variables):
#
#   DIR/sweep.sbatch
#     #!/bin/bash
#     #SBATCH --job-name=nmf-sweep
#     #SBATCH --array=0-2                      # 0-(N-1): one task per shard, shard index = task id
#     #SBATCH --ntasks=1
#     #SBATCH --cpus-per-task=1
#     #SBATCH --output=DIR/logs/shard-%a.out   # %a = array task id; DIR/logs must exist at submit
#     #SBATCH --chdir=DIR
#     set -euo pipefail
#     i=$SLURM_ARRAY_TASK_ID
#     n=$SLURM_ARRAY_TASK_COUNT
#     exec /abs/nmf-lab sweep --grid DIR/grid.toml --shard "$i/$n" \
#       --threads "${SLURM_CPUS_PER_TASK:-1}" --out "DIR/shards/$i" --quiet
#
#   DIR/merge.sbatch
#     #!/bin/bash
#     #SBATCH --job-name=nmf-sweep-merge
#     #SBATCH --ntasks=1
#     #SBATCH --kill-on-invalid-dep=yes        # a failed shard cancels the merge (else: pending forever)
#     #SBATCH --output=DIR/logs/merge.out
#     #SBATCH --chdir=DIR
#     set -euo pipefail
#     exec /abs/nmf-lab sweep merge --out DIR/merged DIR/shards/0 DIR/shards/1 DIR/shards/2
#
#   DIR/submit.sh
#     #!/bin/sh
#     set -eu
#     cd "$(dirname "$0")"
#     array=$(sbatch --parsable sweep.sbatch); array=${array%%;*}   # --parsable: "id" or "id;cluster"
#     merge=$(sbatch --parsable --dependency=afterok:"$array" merge.sbatch); merge=${merge%%;*}
#     echo "array $array"
#     echo "merge $merge"
#
# Timings here: `up` cold (apt-get update + download + install) 17.7 s, 7 s with the .debs in
# apt's cache; warm (installed, daemons stopped) 1.1 s; already up 0.7 s; `down` ~3 s.
# slurm-sweep-check.sh with a stand-in binary (1-s shards): 15 s (starting and stopping the
# daemons), 9 s on a cluster already up, 20 s from no packages (cached .debs).
#
# Verified here:
# - SLURM_ARRAY_TASK_COUNT is set in 22.05 for array tasks (3 for --array=0-2), together with
#   SLURM_ARRAY_TASK_ID (0..2), SLURM_ARRAY_TASK_MIN/MAX and SLURM_ARRAY_JOB_ID. It is the number
#   of tasks, not max+1 (they differ for --array=1-3 or with a step), so with --array=0-(N-1) the
#   pair ID/COUNT is exactly a 0-based `--shard I/N`. If --shard is 1-based, use --array=1-N and ID.
# - afterok:<array job id> waits for every task of the array and releases the merge only when all
#   exited 0.
# - Without accounting (no slurmdbd) there is no sacct; `scontrol show job <id>` keeps finished
#   jobs for MinJobAge seconds (set to 3600 below) with JobState=COMPLETED|FAILED|CANCELLED and
#   ExitCode=a:b, one record per array task: that is how the check reads the outcome.
#
# Pitfalls:
# - Without --kill-on-invalid-dep=yes a failed shard leaves the merge PENDING forever with
#   Reason=DependencyNeverSatisfied; a poller waiting for the queue to drain then hangs to its
#   timeout. (The check script also fails fast on that reason.)
# - --output's directory must exist when the job starts, or the task fails with no log at all
#   (tested: JobState=FAILED Reason=JobLaunchFailure ExitCode=0:53, slurmd.log "IO setup
#   failed"); so `sweep slurm` creates DIR/logs (and DIR/shards) itself. #SBATCH lines are not
#   shell: no $VARS, no ~, so it must write absolute paths (binary: its own current_exe()).
# - `apt-get install slurm-wlm` tries to start the daemons from their init scripts; we install
#   under a policy-rc.d that says 101 so nothing starts behind our back (Docker-style images already
#   ship one) and every daemon running afterwards is one we started and recorded.
# - slurm.conf says NodeAddr=127.0.0.1 and SlurmctldHost=<host>(127.0.0.1) so the cluster does
#   not depend on the hostname resolving; NodeName must be `hostname -s`, or slurmd exits at once
#   (tested: "fatal: Unable to determine this slurmd's NodeName").
# - RealMemory must not exceed what slurmd measures, or the node never gets idle (tested: sinfo
#   "inval", State=UNKNOWN+DRAIN+INVALID_REG, Reason=Low RealMemory); we take free -m's total
#   minus 10 % (at least 256 MB less). ReturnToService=2 returns a DOWN node to service when its
#   slurmd registers (tested: a node set DOWN before `down` came back idle on `up`: "node vm
#   returned to service"); `up` also issues `scontrol update nodename=<host> state=resume` once if
#   the node shows down/drain (tested: a node set DOWN under running daemons is idle again).
# - cgroups: none needed. With ProctrackType=proctrack/linuxproc, TaskPlugin=task/none and
#   JobAcctGatherType=jobacct_gather/none, slurmd 22.05 starts and runs jobs here with no
#   cgroup.conf at all (tested: slurmd.log has no cgroup line, jobs run), so
#   none is written. (proctrack/cgroup or task/cgroup would need one, and a writable cgroup tree.)
# - Harmless noise in the logs: "mpi/pmix ... can not load PMIx library" (slurmd probes pmix
#   even with MpiDefault=none), "Could not open node/job state file" on the very first start.
# - slurmctld keeps its state in /var/spool/slurmctld across restarts: job ids keep counting, and
#   a job left queued by a killed run comes back; the check cancels its own jobs on failure.
# - Scheduling here is in waves ~2-3 s apart (sched_min_interval and node completing): a 3-task
#   array of 1-s tasks on 2 cores plus the merge takes ~7-8 s from submit to empty queue.
# - munged runs as the munge user (setpriv), the key is /etc/munge/munge.key, munge:munge 0400;
#   /run/munge must exist (no systemd-tmpfiles here).
# - Daemons run in the foreground (-D / -F) under setsid with their output in /var/log/slurm, so
#   the PID we record is the daemon's own and nothing holds the caller's stdout open.
# ---------------------------------------------------------------------------------------------
set -euo pipefail

STATE=${SLURM_CLUSTER_STATE:-/run/nmf-lab-slurm/daemons}
TIMEOUT=${SLURM_CLUSTER_TIMEOUT:-60}
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
MARK="# written by nmf-lab scripts/slurm-cluster.sh"

say() { echo "slurm-cluster: $*"; }
die() { echo "slurm-cluster: ERROR: $*" >&2; exit 1; }

node_name() { hostname -s; }

logs_tail() {
  local f
  for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log "$LOG_DIR"/slurmctld.stdout \
    "$LOG_DIR"/slurmd.stdout "$LOG_DIR"/munged.stdout /var/log/munge/munged.log; do
    [ -s "$f" ] || continue
    echo "---- tail $f" >&2
    tail -n 25 "$f" >&2
  done
}

# is_running NAME: a process with exactly this command name exists (detection only; we never kill
# by name, only the PIDs recorded in the state file).
is_running() { pgrep -x "$1" >/dev/null 2>&1; }

install_if_missing() {
  local missing=()
  for cmd in munged munge slurmctld slurmd sinfo sbatch squeue scontrol; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "missing ${missing[*]}: installing slurm-wlm and munge (apt-get)"
  local t0=$SECONDS
  # Keep the packages' init scripts from starting daemons behind our back.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        slurm-wlm munge >/dev/null
  } || rc=$?
  [ $own_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || die "apt-get install slurm-wlm munge failed (exit $rc)"
  say "installed in $((SECONDS - t0)) s"
}

write_munge_key() {
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge /var/lib/munge /var/log/munge
  chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    say "writing a munge key"
    (umask 077 && dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none)
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
}

write_slurm_conf() {
  local node cpus mem_total mem margin
  node=$(node_name)
  cpus=$(nproc)
  mem_total=$(free -m | awk '/^Mem:/ {print $2}')
  margin=$((mem_total / 10))
  [ $margin -lt 256 ] && margin=256
  mem=$((mem_total - margin))
  [ $mem -lt 1 ] && mem=1
  mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
  local conf=$CONF_DIR/slurm.conf
  if [ -e "$conf" ] && ! grep -qF "$MARK" "$conf"; then
    say "keeping $conf (not written by this script)"
    return 0
  fi
  local tmp
  tmp=$(mktemp)
  cat > "$tmp" <<EOF
$MARK
ClusterName=nmflab
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$tmp" "$conf"; then
    if [ -e "$conf" ] && { is_running slurmctld || is_running slurmd; }; then
      say "warning: $conf changed while Slurm daemons run; they keep the old one until restarted"
    fi
    install -m 0644 "$tmp" "$conf"
    say "wrote $conf (NodeName=$node CPUs=$cpus RealMemory=$mem)"
  fi
  rm -f "$tmp"
}

# start NAME CMD...: start a daemon in the foreground of its own session, record its PID.
start() {
  local name=$1
  shift
  if is_running "$name"; then
    say "$name already running (left alone)"
    return 0
  fi
  # Non-interactive bash: the background child is no process-group leader, so setsid execs in
  # place and $! is the daemon's PID.
  setsid "$@" </dev/null >"$LOG_DIR/$name.stdout" 2>&1 &
  local pid=$!
  mkdir -p "$(dirname "$STATE")"
  echo "$name $pid" >> "$STATE"
  say "started $name (pid $pid)"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2
  shift 2
  local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      logs_tail
      die "$what not reached within ${limit} s"
    fi
    sleep 0.5
  done
}

check_alive() { # a daemon we started must still be there
  local name pid
  [ -s "$STATE" ] || return 0
  while read -r name pid; do
    if ! kill -0 "$pid" 2>/dev/null; then
      logs_tail
      die "$name (pid $pid) exited right after start"
    fi
  done < "$STATE"
}

node_state() { sinfo -h -N -n "$(node_name)" -o %t 2>/dev/null | head -n 1; }

up() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  local t0=$SECONDS
  install_if_missing
  write_munge_key
  write_slurm_conf
  start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
  wait_for 15 "munge credentials" sh -c 'munge -n | unmunge'
  start slurmctld /usr/sbin/slurmctld -D
  wait_for "$TIMEOUT" "slurmctld answering (scontrol ping)" sh -c 'scontrol ping | grep -q UP'
  start slurmd /usr/sbin/slurmd -D
  sleep 0.5
  check_alive
  local node state resumed=0
  node=$(node_name)
  while :; do
    state=$(node_state)
    case "$state" in
      idle | mix | alloc) break ;;
      down | down\* | drain | drain\* | drng | fail | inval)
        # Registered but marked down (e.g. a stale DOWN in saved state): return it to service once.
        if [ $resumed -eq 0 ] && is_running slurmd; then
          scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true
          resumed=1
        fi
        ;;
    esac
    if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
      sinfo -N -l >&2 || true
      scontrol show node "$node" >&2 || true
      logs_tail
      die "node $node not idle within ${TIMEOUT} s (state '${state:-none}')"
    fi
    sleep 0.5
  done
  say "up in $((SECONDS - t0)) s: node $node $state"
}

down() {
  if [ ! -s "$STATE" ]; then
    say "nothing started by up (no $STATE)"
    rm -f "$STATE"
    return 0
  fi
  local name pid comm order=()
  # Stop in reverse start order: slurmd, slurmctld, munged.
  mapfile -t order < <(tac "$STATE")
  for line in "${order[@]}"; do
    read -r name pid <<<"$line"
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [ "$comm" != "$name" ]; then
      say "$name (pid $pid) no longer running"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      say "killed $name (pid $pid)"
    else
      say "stopped $name (pid $pid)"
    fi
  done
  rm -f "$STATE"
}

status() {
  local n
  for n in munged slurmctld slurmd; do
    if is_running "$n"; then say "$n running (pid $(pgrep -x "$n" | tr '\n' ' '))"; else say "$n not running"; fi
  done
  if [ -s "$STATE" ]; then say "started by up ($STATE): $(tr '\n' ' ' < "$STATE")"; fi
  command -v sinfo >/dev/null 2>&1 || die "sinfo not installed (run: $0 up)"
  sinfo || die "no controller answering (run: $0 up)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
