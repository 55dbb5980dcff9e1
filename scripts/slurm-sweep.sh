#!/usr/bin/env bash
# Scale-out on a real scheduler, end to end: a one-node Slurm cluster on loopback (munge,
# slurmctld, slurmd, all started here in a temporary directory), the README's sbatch array job
# run on it against the sample store, `settle sweep merge` of its shards compared byte for byte
# with the single-machine `settle sweep` of the same grid; then one task cancelled and one failed,
# both rerun alone with `sbatch --array=K`, merged and compared again. Every daemon is stopped
# and the directory removed on exit, whatever happened.
#
#   bash scripts/slurm-sweep.sh
#
# Needs root (apt-get, and slurmd launches jobs). Installs munge and Slurm with apt-get when
# they are missing. Environment:
#   SETTLE_BIN          the settle binary (default: cargo build --release, then that binary)
#   SETTLE_SHARED_DATA  the sample data (default ../shared/data beside the checkout)
#   SLURM_SWEEP_KEEP=1  keep the temporary directory (logs, shards, exports) for a look after
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s%N)

say() { printf 'slurm-sweep: %s\n' "$*"; }
die() { printf 'slurm-sweep: FAILED: %s\n' "$*" >&2; exit 1; }
# Seconds since the start, to the millisecond.
elapsed() { local now; now=$(date +%s%N); printf '%d.%03d' $(((now - t0) / 1000000000)) $(((now - t0) / 1000000 % 1000)); }

[[ $EUID -eq 0 ]] || die "run as root: it installs packages with apt-get and slurmd must be root to launch jobs"

# --- packages --------------------------------------------------------------------------------
# Only what a one-node cluster needs; slurm-wlm would add slurmdbd and a database client.
if ! command -v munged >/dev/null || ! command -v slurmctld >/dev/null ||
   ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null; then
  say "installing munge and Slurm (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
fi
say "$(slurmd -V), munge $(munged --version 2>&1 | awk '{print $1; exit}' | sed 's/^munge-//')"
t_installed=$(elapsed)

DATA=${SETTLE_SHARED_DATA:-$(cd .. && pwd)/shared/data}
[[ -d $DATA ]] || die "no sample data at $DATA (set SETTLE_SHARED_DATA)"
if [[ -z ${SETTLE_BIN:-} ]]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
  cargo build --release --quiet --bin settle
  SETTLE_BIN=$CARGO_TARGET_DIR/release/settle
fi
[[ -x $SETTLE_BIN ]] || die "no settle binary at $SETTLE_BIN"

# --- a private cluster in a temporary directory ----------------------------------------------
WORK=$(mktemp -d /tmp/settle-slurm.XXXXXX)
# Set once the config exists: from then on, the cleanup talks to this cluster only.
export SLURM_CONF=
JOBS=()

# True once process $1 has exited, waiting up to $2 seconds.
gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}
# Stops process $1: lets it exit by itself for $2 seconds, then TERM, then KILL.
stop_pid() {
  gone "$1" "$2" && return 0
  kill -TERM "$1" 2>/dev/null
  gone "$1" 5 && return 0
  kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
  local rc=$? f pid
  set +e
  if ((rc != 0)); then
    # What a failure needs to be understood, before the directory goes.
    for f in "$WORK"/log/*.log "$WORK"/out/*.out; do
      [[ -f $f ]] && { echo "--- $f (last 20 lines)"; tail -n 20 "$f"; } >&2
    done
  fi
  if [[ -n $SLURM_CONF ]]; then
    ((${#JOBS[@]})) && scancel "${JOBS[@]}" 2>/dev/null
    # Asks slurmctld to stop and to stop the slurmd; the pid files cover a daemon that is
    # not answering.
    scontrol shutdown >/dev/null 2>&1
  fi
  # The Slurm daemons were asked to stop; munged last, as they authenticate through it.
  for f in slurmctld:10 slurmd:10 munged:0; do
    pid=$(cat "$WORK/run/${f%:*}.pid" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] && stop_pid "$pid" "${f#*:}"
  done
  if [[ ${SLURM_SWEEP_KEEP:-0} == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  ((rc == 0)) && say "wall time: $(elapsed) s in all, daemons stopped"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"/{munge-key,munge,run,log,ctld,spool,out,bin}
# munged refuses a key others can read and a key directory others can enter; the socket's
# directory, on the contrary, must be open to every user whose jobs authenticate.
chmod 700 "$WORK/munge-key"
chmod 755 "$WORK" "$WORK/munge"
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$WORK/munge-key/munge.key"
else
  head -c 1024 /dev/urandom >"$WORK/munge-key/munge.key"
fi
chmod 400 "$WORK/munge-key/munge.key"
# Its own key and socket, so a system munge (if any) is neither used nor disturbed. --force:
# munged refuses to run as root otherwise; the cluster lives and dies with this script.
munged --force --socket="$WORK/munge/munge.socket.2" --key-file="$WORK/munge-key/munge.key" \
  --pid-file="$WORK/run/munged.pid" --log-file="$WORK/log/munged.log" \
  --seed-file="$WORK/run/munged.seed"
munge -s settle -S "$WORK/munge/munge.socket.2" | unmunge -S "$WORK/munge/munge.socket.2" >/dev/null ||
  die "munge cannot decode its own credential"

# Two free loopback ports from Slurm's defaults up, so a cluster already on this machine (or a
# run killed before its cleanup) is not in the way.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=()
for ((p = 6817; ${#ports[@]} < 2 && p < 6917; p++)); do
  port_free "$p" && ports+=("$p")
done
((${#ports[@]} == 2)) || die "no two free ports in 6817-6916"

# The node as slurmd measures it (CPUs, sockets, cores, threads, RealMemory): a node whose
# configuration claims more than it has is drained.
NODE_LINE=$(slurmd -C | head -n 1)
NODE=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$NODE_LINE")
[[ -n $NODE ]] || die "slurmd -C printed no NodeName: $NODE_LINE"
CPUS=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")
cat >"$WORK/slurm.conf" <<EOF
# One-node cluster on loopback, written by scripts/slurm-sweep.sh.
ClusterName=settle
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
AuthType=auth/munge
AuthInfo=socket=$WORK/munge/munge.socket.2
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/ctld
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/run/slurmctld.pid
SlurmdPidFile=$WORK/run/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
# No cgroups: containers and CI machines often lack a writable cgroup tree.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# The default holds batch jobs back up to 3 s between scheduling passes: 12 s for the 8 tasks
# two at a time, where no delay takes 4.
SchedulerParameters=batch_sched_delay=0
# Task states are read from the job records after the array ends; they must outlive the
# longest wait below (300 s, also the default age at which records go).
MinJobAge=600
ReturnToService=2
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$WORK/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N "$NODE"
for ((i = 0; ; i++)); do
  state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  ((i < 300)) || die "node $NODE is '${state:-not reported}' after 30 s, not idle"
  sleep 0.1
done
say "cluster up: node $NODE ($CPUS CPUs), slurmctld :${ports[0]}, slurmd :${ports[1]} ($(elapsed) s)"
t_cluster=$(elapsed)

# --- the store and the README's job ----------------------------------------------------------
HOME_DIR=$WORK/home
# The jobs find settle on PATH, as they would on a cluster where it is installed.
ln -s "$(realpath "$SETTLE_BIN")" "$WORK/bin/settle"
export PATH=$WORK/bin:$PATH
settle --home "$HOME_DIR" data import --sample "$DATA" >/dev/null

# The README's sbatch script, exactly, but for the shared path /shared/settle, which is the
# store made above. Taken from the README so that the README is what is tested.
awk '
  /^```/ { if (!inside) { inside = 1; block = ""; next }
           inside = 0; if (block ~ /#SBATCH --array/) { printf "%s", block; exit } next }
  inside { block = block $0 "\n" }
' README.md | sed "s#/shared/settle#$HOME_DIR#g" >"$WORK/sweep.sh"
grep -q '^#SBATCH --array=' "$WORK/sweep.sh" || die "no sbatch script with --array in README.md"
# Its settle command on one line, as words (the README writes no quotes in it).
read -ra CMD < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$WORK/sweep.sh" | grep '^settle ')
SHARDS=""
SHARD_DIR=""
SINGLE=()   # the same command without its shard flags: the single-machine sweep
for ((i = 1; i < ${#CMD[@]}; i++)); do
  case ${CMD[i]} in
    --shards) SHARDS=${CMD[i + 1]}; i=$((i + 1)) ;;
    --shard-dir) SHARD_DIR=${CMD[i + 1]}; i=$((i + 1)) ;;
    *) SINGLE+=("${CMD[i]}") ;;
  esac
done
[[ $SHARDS =~ ^[0-9]+$ && -n $SHARD_DIR ]] || die "the README's job has no --shards N --shard-dir DIR"
grep -qx "#SBATCH --array=0-$((SHARDS - 1))" "$WORK/sweep.sh" ||
  die "the README's job array is not 0-$((SHARDS - 1)) for --shards $SHARDS"
say "README job: ${CMD[*]}"

# The README asks 8 CPUs a task, for a real cluster's nodes; a smaller node would leave the
# array pending forever (reason PartitionConfig). One CPU a task runs two tasks at a time
# here, side by side as on two nodes. Command-line options override #SBATCH lines.
SUBMIT=(sbatch --parsable --cpus-per-task=1 --chdir="$WORK/out")

# Waits for job $1 to leave the queue (at most $2 s), then prints "TASK STATE EXIT" per task.
wait_job() {
  local job=$1 i queued
  for ((i = 0; ; i++)); do
    # A failed squeue (slurmctld busy) is asked again, not read as an empty queue.
    queued=$(squeue -h -j "$job" -o %i 2>/dev/null) && [[ -z $queued ]] && break
    ((i < $2 * 10)) || { squeue -j "$job" -o '%i %T %r' >&2; die "job $job still queued after $2 s"; }
    sleep 0.1
  done
  scontrol -o show job "$job" |
    sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .* ExitCode=\([0-9:]*\) .*/\1 \2 \3/p' |
    sort -n
}

# Runs job $1's tasks to completion and checks that every task completed with exit 0.
expect_completed() {
  local states bad
  states=$(wait_job "$1" 300)
  bad=$(awk '$2 != "COMPLETED" || $3 != "0:0"' <<<"$states")
  [[ -n $states && -z $bad ]] || die "job $1: tasks not completed: ${bad:-no task records}"
  printf '%s\n' "$states"
}

# Merges every shard file into $1.json and the exports $1.parquet and $1.csv.
merge_into() {
  local files=("$SHARD_DIR"/sweep-shard-*-of-"$SHARDS".json)
  settle sweep merge "${files[@]}" --json --out "$WORK/$1.parquet" >"$WORK/$1.json"
  settle sweep merge "${files[@]}" --json --out "$WORK/$1.csv" >/dev/null
}

# Compares $1.* with the single-machine files, byte for byte.
same_bytes() {
  local ext
  for ext in json parquet csv; do
    cmp "$WORK/single.$ext" "$WORK/$1.$ext" || die "$1.$ext differs from the single-machine run"
    say "  $1.$ext = single.$ext ($(wc -c <"$WORK/$1.$ext") bytes, sha256 $(sha256sum "$WORK/$1.$ext" | cut -c1-16))"
  done
}

# --- the single-machine sweep ----------------------------------------------------------------
# --no-guards: the overfitting guards need the bars, so a merge has none, and the JSON of a run
# with them carries them; the exports do not, which the guarded run below checks.
settle "${SINGLE[@]}" --no-guards --json --export "$WORK/single.parquet" >"$WORK/single.json"
settle "${SINGLE[@]}" --no-guards --json --export "$WORK/single.csv" >/dev/null
settle "${SINGLE[@]}" --json --export "$WORK/guarded.parquet" >/dev/null
cmp "$WORK/single.parquet" "$WORK/guarded.parquet" ||
  die "the export of a sweep with guards differs from one without"
combos=$(sed -n 's/^  "totalCombinations": \([0-9]*\),$/\1/p' "$WORK/single.json")
say "single machine: $combos combinations"

# --- 1. the whole array --------------------------------------------------------------------
job=$("${SUBMIT[@]}" "$WORK/sweep.sh")
JOBS+=("$job")
say "submitted array job $job (tasks 0-$((SHARDS - 1)))"
expect_completed "$job" | sed 's/^/  task /'
merge_into merged
same_bytes merged
t_array=$(elapsed)

# --- 2. one task killed, one failed, both rerun alone ----------------------------------------
rm -rf "$SHARD_DIR"
KILLED=$((SHARDS - 3))
FAILED=$((SHARDS / 2 - 1))
# Held, so the kill lands on a task that has not run yet: scancel of one index of the array.
job=$("${SUBMIT[@]}" --hold "$WORK/sweep.sh")
JOBS+=("$job")
scancel "${job}_$KILLED"
# Slurm drops a pending task it cancels from the array's record, leaving no trace to read
# after the array ends: the pending tasks are read now, and must be all but that one.
pending=$(squeue -h -r -j "$job" -o %K | sort -n | tr '\n' ' ')
[[ $pending == "$(seq -s ' ' 0 $((SHARDS - 1)) | sed "s/\b$KILLED \b//") " ]] ||
  die "tasks pending after scancel of $KILLED: $pending"
# A directory where task FAILED's shard file goes: its write fails and it exits non-zero,
# as a task does on a full or unwritable disk.
mkdir -p "$SHARD_DIR/sweep-shard-$FAILED-of-$SHARDS.json"
scontrol release "$job"
states=$(wait_job "$job" 300)
printf '%s\n' "$states" "$KILLED CANCELLED (before it ran)" | sort -n | sed 's/^/  task /'
grep -q "^$KILLED " <<<"$states" && die "task $KILLED ran after it was cancelled"
[[ ! -e $WORK/out/slurm-${job}_$KILLED.out ]] || die "task $KILLED left an output file"
grep -qx "$FAILED FAILED 1:0" <<<"$states" || die "task $FAILED did not fail with exit 1"
ok=$(awk '$2 == "COMPLETED" && $3 == "0:0"' <<<"$states" | wc -l)
((ok == SHARDS - 2)) || die "expected $((SHARDS - 2)) completed tasks, got $ok"
grep -h '^error' "$WORK/out/slurm-${job}_$FAILED.out" | sed "s/^/  task $FAILED: /"
rmdir "$SHARD_DIR/sweep-shard-$FAILED-of-$SHARDS.json"

# The merge refuses the incomplete set and names what to rerun.
if msg=$(settle sweep merge "$SHARD_DIR"/sweep-shard-*-of-"$SHARDS".json 2>&1); then
  die "merge of $((SHARDS - 2)) of $SHARDS shards succeeded"
fi
lo=$((FAILED < KILLED ? FAILED : KILLED))
hi=$((FAILED < KILLED ? KILLED : FAILED))
grep -q "missing 2 of $SHARDS shards: $lo, $hi; run them and merge again" <<<"$msg" ||
  die "merge without shards $lo and $hi said: $msg"
say "merge without them: $msg"

# Each rerun alone, as an operator would: the task id is the shard index.
for k in "$FAILED" "$KILLED"; do
  rerun=$("${SUBMIT[@]}" --array="$k" "$WORK/sweep.sh")
  JOBS+=("$rerun")
  expect_completed "$rerun" | sed "s/^/  rerun $rerun: task /"
done
merge_into rerun
same_bytes rerun
t_rerun=$(elapsed)

say "OK: ${SHARDS}-task array and single machine agree byte for byte, before and after rerunning a cancelled and a failed task"
say "times: packages ready at ${t_installed} s, cluster up at ${t_cluster} s, array merged at ${t_array} s, reruns merged at ${t_rerun} s"
