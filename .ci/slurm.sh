#!/usr/bin/env bash
# slurm-single-node.sh - throwaway single-node Slurm cluster for tests/CI, no systemd.
# Tested: Debian 12 (bookworm), Slurm 22.05.8, munge 0.5.15, run as root.
#
# The gputrain sweep Slurm test and .ci/run use it; see docs/sweep.md.
#
#   apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge
#   ./slurm-single-node.sh start [DIR]   # start munged+slurmctld+slurmd, wait for node idle
#   . DIR/env                            # exports SLURM_CONF for sbatch/srun/squeue/sinfo
#   ./slurm-single-node.sh stop  [DIR]   # cancel jobs, stop daemons by PID, verify
#   ./slurm-single-node.sh demo  [DIR]   # start, run a 4-task array + srun, stop
# Or `source` it and call slurm_start DIR / slurm_stop DIR yourself.
# DIR defaults to $SLURM_TEST_DIR or a new mktemp -d. Everything lives in DIR.
# Ports: SLURMCTLD_PORT (default 6817), SLURMD_PORT (default 6818).
# SLURM_EXTRA_CONF: extra lines appended to slurm.conf.
# SLURM_NODE_NAME: node name (default: hostname -s; it need not resolve).
# SLURM_START_TIMEOUT: seconds to wait for controller + idle node (default 60).

slurm_log() { echo "[slurm-single-node] $*" >&2; }

# alive PID: exists and is not a zombie (an orphaned daemon whose parent
# never reaps it would otherwise look alive forever to `kill -0`).
_sl_alive() {
  local st
  st=$(awk '/^State:/ {print $2; exit}' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# PIDs of processes belonging to cluster DIR, found by environment, not name:
# the daemons are started with SLURM_SINGLE_NODE_DIR=DIR (slurmstepd inherits
# it); job tasks carry SLURM_JOB_ID and SLURM_CONF=DIR/etc/slurm.conf.
_sl_our_pids() {
  local dir=$1 f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if grep -qzxF "SLURM_SINGLE_NODE_DIR=$dir" "$f" 2>/dev/null ||
       { grep -qzxF "SLURM_CONF=$dir/etc/slurm.conf" "$f" 2>/dev/null &&
         grep -qz '^SLURM_JOB_ID=' "$f" 2>/dev/null; }; then
      _sl_alive "$pid" && echo "$pid"
    fi
  done
  return 0
}

_sl_kill_wait() {   # _sl_kill_wait NAME PID [SECONDS]
  local name=$1 pid=$2 secs=${3:-15} i
  [ -n "$pid" ] || return 0
  _sl_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    if ! _sl_alive "$pid"; then
      wait "$pid" 2>/dev/null || true   # reap it if it is our own child
      slurm_log "stopped $name (pid $pid)"; return 0
    fi
    sleep 0.1
  done
  slurm_log "$name (pid $pid) ignored SIGTERM, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
}

# slurm_start [DIR]: on failure, prints the relevant log tails, stops
# whatever it had started and returns 1.
slurm_start() {
  _sl_start "$@" && return 0
  slurm_stop "${1:-${SLURM_TEST_DIR:-}}" >/dev/null 2>&1 || true
  return 1
}

_sl_start() {
  local dir=${1:-${SLURM_TEST_DIR:-}}
  [ -n "$dir" ] || dir=$(mktemp -d /tmp/slurm-test.XXXXXX)
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd) && [ "$dir" != / ] || return 1
  export SLURM_TEST_DIR=$dir
  # idempotent: stop a cluster previously started in the same DIR
  if compgen -G "$dir/run/*.pid.bg" >/dev/null; then slurm_stop "$dir" || return 1; fi
  local host ctl_host cpus mem_mb ctld_port=${SLURMCTLD_PORT:-6817} slurmd_port=${SLURMD_PORT:-6818}
  # slurmctld refuses to run ("This host ... not a valid controller") unless
  # SlurmctldHost equals this machine's short hostname; the (addr) part
  # makes clients use 127.0.0.1 so the name need not resolve.
  ctl_host=$(hostname -s)
  host=${SLURM_NODE_NAME:-$ctl_host}
  cpus=$(nproc)
  # RealMemory must not exceed what slurmd detects, else the node is drained
  # with reason "Low RealMemory"; keep a safety margin.
  mem_mb=$(awk '/^MemTotal:/ {m = int($2 / 1024) - 512; if (m < 256) m = 256; print m}' /proc/meminfo)

  # 0755, not 0700: munged warns (and non-root job users could not reach the
  # socket) unless every directory above the socket is world-executable.
  # fresh state every start: a reused DIR would otherwise resurrect jobs from
  # a previous (crashed) run out of StateSaveLocation
  rm -rf "$dir/state" "$dir/spool" "$dir/log"
  chmod 0755 "$dir" && mkdir -p "$dir"/{etc,munge,state,spool,log,run} || return 1

  # ---- munge: private key + private socket, nothing under /etc or /run ----
  [ -s "$dir/munge/munge.key" ] || {
    if command -v mungekey >/dev/null; then mungekey -c -k "$dir/munge/munge.key"
    else dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 status=none; fi
  } || return 1
  chmod 0400 "$dir/munge/munge.key" || return 1
  local sock="$dir/munge/munge.socket.2"

  cat > "$dir/etc/slurm.conf" <<EOF
ClusterName=citest
SlurmctldHost=${ctl_host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${sock}
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/run/slurmctld.pid
SlurmdPidFile=${dir}/run/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# react to submissions/completions within ~1 s instead of ~3 s
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/log/jobcomp.log
MailProg=/bin/true
ReturnToService=2
MinJobAge=300
InactiveLimit=0
KillWait=5
SlurmdTimeout=300
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
${SLURM_EXTRA_CONF:-}
EOF
  [ -s "$dir/etc/slurm.conf" ] || return 1
  echo "export SLURM_CONF=$dir/etc/slurm.conf" > "$dir/env"
  export SLURM_CONF="$dir/etc/slurm.conf"

  # All daemons carry this marker so slurm_stop can find them (and any
  # slurmstepd they spawn) by PID without matching on process names.
  local -a marker=(env "SLURM_SINGLE_NODE_DIR=$dir" "SLURM_CONF=$SLURM_CONF")

  # -F/-D: stay in the foreground; we background them and keep $! as the PID.
  # setsid + </dev/null: detach from the caller's terminal so that a CI
  # step that ends does not SIGHUP them, and they don't hold its stdin.
  setsid "${marker[@]}" /usr/sbin/munged -F --force \
      --socket="$sock" --key-file="$dir/munge/munge.key" \
      --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
      --log-file="$dir/log/munged.log" </dev/null >>"$dir/log/munged.out" 2>&1 &
  echo $! > "$dir/run/munged.pid.bg"
  local i deadline
  for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { slurm_log "munged did not start:"; cat "$dir/log/munged.out" "$dir/log/munged.log" >&2 2>/dev/null; return 1; }
  # sanity: a credential encoded and decoded through our socket
  munge -S "$sock" -n | unmunge -S "$sock" >/dev/null || { slurm_log "munge could not encode and decode a credential"; return 1; }

  setsid "${marker[@]}" /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" \
      </dev/null >>"$dir/log/slurmctld.out" 2>&1 &
  echo $! > "$dir/run/slurmctld.pid.bg"
  deadline=$((SECONDS + ${SLURM_START_TIMEOUT:-60}))
  until [[ $(timeout 5 scontrol ping 2>/dev/null) == *"is UP"* ]]; do
    if ! _sl_alive "$(cat "$dir/run/slurmctld.pid.bg")" || ((SECONDS > deadline)); then
      slurm_log "slurmctld did not come up:"
      tail -n 20 "$dir/log/slurmctld.out" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done

  setsid "${marker[@]}" /usr/sbin/slurmd -D -N "$host" -f "$SLURM_CONF" \
      </dev/null >>"$dir/log/slurmd.out" 2>&1 &
  echo $! > "$dir/run/slurmd.pid.bg"

  # wait until the node reports idle (or fail with the logs)
  local state=""
  while ((SECONDS <= deadline)); do
    state=$(timeout 5 sinfo -h -n "$host" -o '%T' 2>/dev/null | head -1)
    [ "$state" = idle ] && break
    _sl_alive "$(cat "$dir/run/slurmd.pid.bg")" || break
    sleep 0.1
  done
  if [ "$state" != idle ]; then
    slurm_log "node did not become idle (state='$state')"
    scontrol show node "$host" >&2 || true
    tail -n 30 "$dir/log/slurmctld.out" "$dir/log/slurmctld.log" "$dir/log/slurmd.out" "$dir/log/slurmd.log" >&2 2>/dev/null || true
    return 1
  fi
  slurm_log "cluster up in $dir (node $host idle); run: . $dir/env"
}

slurm_stop() {
  local dir=${1:-${SLURM_TEST_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir" ] || { slurm_log "stop: no dir"; return 0; }
  dir=$(cd "$dir" && pwd)
  export SLURM_CONF="$dir/etc/slurm.conf"
  local pid i
  # 1. cancel jobs and give slurmstepd a moment to clean up while slurmd is alive
  pid=$(cat "$dir/run/slurmctld.pid.bg" 2>/dev/null || true)
  if [ -n "$pid" ] && _sl_alive "$pid"; then
    scancel --full --quiet --user=root 2>/dev/null || scancel --quiet --user=root 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      [ -z "$(squeue -h -t PD,R,CG,S -o %i 2>/dev/null)" ] && break; sleep 0.1
    done
  fi
  # 2. stop daemons by PID: slurmd, slurmctld, munged
  _sl_kill_wait slurmd    "$(cat "$dir/run/slurmd.pid.bg" 2>/dev/null)"
  _sl_kill_wait slurmctld "$(cat "$dir/run/slurmctld.pid.bg" 2>/dev/null)"
  _sl_kill_wait munged    "$(cat "$dir/run/munged.pid.bg" 2>/dev/null)"
  # 3. anything left (orphaned slurmstepd or job tasks, if a daemon died)
  for pid in $(_sl_our_pids "$dir"); do _sl_kill_wait "leftover" "$pid" 2; done
  rm -f "$dir"/run/*.pid.bg
  local left; left=$(_sl_our_pids "$dir")
  if [ -n "$left" ]; then slurm_log "still running: $left"; return 1; fi
  slurm_log "all daemons for $dir stopped"
}

# slurm_wait_job JOBID [TIMEOUT_S]: wait until no task of the job is pending,
# running, completing or suspended. Works for array jobs (pass the array id).
# Finished jobs stay visible to squeue for MinJobAge (300 s) only; there is
# no sacct without slurmdbd (jobcomp log: DIR/log/jobcomp.log).
slurm_wait_job() {
  local jobid=$1 secs=${2:-300} i out
  for ((i = 0; i < secs * 5; i++)); do
    if out=$(squeue -h -j "$jobid" -t PD,R,CG,S,CF -o %i 2>&1); then
      [ -z "$out" ] && return 0
    elif [[ $out == *"Invalid job id"* ]]; then
      return 0                       # already purged (older than MinJobAge)
    fi                               # else: controller busy/down, keep trying
    sleep 0.2
  done
  return 1
}

slurm_demo() {
  local dir=${1:-$(mktemp -d /tmp/slurm-test.XXXXXX)} t0 t1 t2 t3 jobid i
  t0=$(date +%s.%N)
  slurm_start "$dir" || return 1
  t1=$(date +%s.%N)
  sinfo || true
  mkdir -p "$dir/out"
  t2=$(date +%s.%N)
  jobid=$(sbatch --parsable --array=0-3 --output="$dir/out/arr_%A_%a.out" \
    --wrap 'echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT on $(hostname); sleep 1') ||
    { slurm_stop "$dir"; return 1; }
  # poll rather than `sbatch --wait` (which polls every 2-10 s by itself)
  slurm_wait_job "$jobid" 120 || echo "job $jobid did not finish in time"
  t3=$(date +%s.%N)
  local ok=1 f
  for i in 0 1 2 3; do
    f="$dir/out/arr_${jobid}_$i.out"
    if grep -qx "task $i of 4 on $(hostname)" "$f" 2>/dev/null; then echo "$f: $(cat "$f")"
    else echo "MISSING/BAD: $f"; ok=0; fi
  done
  squeue -h -j "$jobid" -t all -o '%i %T %M' || true
  echo "srun: $(srun -n1 hostname)"
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" \
    'BEGIN { printf "start->idle %.1fs, 4-task array %.1fs\n", b - a, d - c }'
  slurm_stop "$dir"
  [ "$ok" = 1 ]
}

# Run as a command unless sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cmd=${1:-demo}; shift || true
  case "$cmd" in
    start) slurm_start "$@" ;;
    stop)  slurm_stop "$@" ;;
    demo)  slurm_demo "$@" ;;
    *) echo "usage: $0 start|stop|demo [DIR]" >&2; exit 2 ;;
  esac
fi
