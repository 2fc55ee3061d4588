#!/usr/bin/env bash
# A real scheduler in the tests: runs examples/slurm/sdedit-array.sbatch on a single-node Slurm
# started here, and checks it against a single-process `sdedit batch`.
#
#   scripts/test_slurm.sh            (as root: installs packages, starts daemons)
#
# 1. installs Debian's slurm-wlm and munge when missing (apt);
# 2. starts munged (unless one answers already) and a private single-node cluster (slurmctld +
#    slurmd on this machine, its own ports, config and state under $SLURM_TEST_DIR);
# 3. writes a batch of $JOBS jobs over the committed tiny models (txt2img, img2img, upscale),
#    runs it once as one process, then submits the example array job with $TASKS tasks and waits;
# 4. checks that every task succeeded and ran only its own shard, that the tasks' results logs
#    list every job index exactly once, and that the union of their outputs equals the
#    single-process run byte for byte (both with --threads 1);
# 5. stops the daemons it started and removes its folder (KEEP=1 keeps the folder, for the logs).
#
# Idempotent: daemons left by an interrupted run (found by their pid files) are stopped first.
# Needs the release build (.build/release/sdedit; built here when missing). Takes about a minute
# once the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=${SLURM_TEST_DIR:-/tmp/sdedit-slurm-test}
TASKS=${TASKS:-4}
JOBS=${JOBS:-14}
SDEDIT=${SDEDIT:-$ROOT/.build/release/sdedit}
CTLD_PORT=${SLURMCTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
START=$(date +%s)

say() { echo "test_slurm: $*"; }
fail() { echo "test_slurm: FAIL: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || fail "run as root (it installs packages and starts slurmctld, slurmd and munged)"

# --- 1. packages
missing=()
for package in slurm-wlm munge; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ ! -x $SDEDIT ]]; then
  say "building sdedit (release)"
  swift build -c release
fi

# --- clean up what an earlier run left, and what this run starts, on any exit
stop_pidfile() {
  local file=$1 pid
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
cleanup() {
  local status=$?
  stop_pidfile "$STATE/slurmd.pid"
  stop_pidfile "$STATE/slurmctld.pid"
  stop_pidfile "$STATE/munged.pid"
  if [[ ${KEEP:-0} == 1 || $status != 0 ]]; then
    say "logs kept in $STATE"
  else
    rm -rf "$STATE"
  fi
  exit $status
}
stop_pidfile "$STATE/slurmd.pid"
stop_pidfile "$STATE/slurmctld.pid"
stop_pidfile "$STATE/munged.pid"
rm -rf "$STATE"
mkdir -p "$STATE"/{ctld,spool,single,slurm/logs}
trap cleanup EXIT

# --- 2. munge (Slurm's authentication)
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running"
else
  if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 700 /etc/munge
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do [[ -s /run/munge/munged.pid ]] && break; sleep 0.1; done
  cp /run/munge/munged.pid "$STATE/munged.pid"  # stopped by cleanup, as ours
  munge -n </dev/null | unmunge >/dev/null || fail "munged does not answer"
  say "started munged"
fi

# --- 2. a single-node cluster: this machine, as slurmd -C describes it, on the loopback address
node=$(slurmd -C | head -1)
host=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node")
export SLURM_CONF=$STATE/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=sdedit-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
$node NodeAddr=127.0.0.1
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 120); do
  state=$(sinfo -h -o %t 2>/dev/null | head -1 || true)
  [[ $state == idle ]] && break
  sleep 0.5
done
[[ ${state:-} == idle ]] || { tail -5 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2; fail "the node did not come up (state '${state:-none}')"; }
say "cluster up: $(sinfo -h -o '%P %D node(s) %c CPUs %t')"

# --- 3. the batch: txt2img jobs, an img2img and an upscale (over the first job's output)
model=$ROOT/Tests/Fixtures/models/sd1-tiny
input=$ROOT/Tests/Fixtures/reference/inputs/img2img_48x64.png
upscaler=$ROOT/Tests/Fixtures/models/x4-upscaler-tiny
{
  for ((i = 0; i < JOBS - 2; i++)); do
    printf '{"prompt": "a lighthouse, study %d", "output": "out/%03d.png"}\n' "$i" "$i"
  done
  printf '{"task": "img2img", "image": "%s", "prompt": "watercolor", "strength": 0.6, "output": "out/img2img.png"}\n' "$input"
  printf '{"task": "upscale", "model": "%s", "image": "%s", "prompt": "a house", "output": "out/upscaled.png"}\n' "$upscaler" "$input"
} >"$STATE/jobs.jsonl"
defaults=(--model "$model" --width 32 --height 32 --steps 3 --seed 1000)

say "single process: sdedit batch, $JOBS jobs"
(cd "$STATE/single" && "$SDEDIT" batch ../jobs.jsonl "${defaults[@]}" --threads 1 --log results.jsonl 2>batch.err) \
  || { cat "$STATE/single/batch.err" >&2; fail "the single-process batch failed"; }

say "sbatch --array=0-$((TASKS - 1)) examples/slurm/sdedit-array.sbatch"
submitted=$(date +%s)
cd "$STATE/slurm"
export SDEDIT SDEDIT_LOG_DIR=logs
job_id=$(sbatch --parsable --array=0-$((TASKS - 1)) --cpus-per-task=1 --mem=512M \
  "$ROOT/examples/slurm/sdedit-array.sbatch" ../jobs.jsonl "${defaults[@]}")
job_id=${job_id%%;*}
say "submitted array job $job_id"
for _ in $(seq 600); do
  [[ -z $(squeue -h -j "$job_id" 2>/dev/null) ]] && break
  sleep 1
done
[[ -z $(squeue -h -j "$job_id" 2>/dev/null) ]] || fail "array job $job_id still queued or running after 10 minutes"
cd "$ROOT"
say "array job $job_id finished in $(($(date +%s) - submitted)) s"

# --- 4. checks
results=()
for ((t = 0; t < TASKS; t++)); do
  out=$STATE/slurm/logs/sdedit-${job_id}_$t.out
  log=$STATE/slurm/logs/sdedit-${job_id}_$t.jsonl
  [[ -s $log ]] || { cat "$out" >&2 2>/dev/null; fail "task $t wrote no results log"; }
  grep -q '"status": "error"' "$log" && { cat "$log" "$out" >&2; fail "task $t had failing jobs"; }
  summary=$(grep '^batch: shard' "$out" | tail -1)
  [[ -n $summary ]] || { cat "$out" >&2; fail "task $t did not finish (no summary in $out)"; }
  say "task $t: ${summary#batch: }"
  while read -r index; do
    (( index % TASKS == t )) || fail "task $t ran job $index, which is shard $((index % TASKS))'s"
    results+=("$index")
  done < <(sed -n 's/^{"index": \([0-9]*\), .*"status": "ok".*/\1/p' "$log")
done
expected=$(seq 0 $((JOBS - 1)))
got=$(printf '%s\n' "${results[@]}" | sort -n)
[[ $got == "$expected" ]] || fail "job indices run: $(tr '\n' ' ' <<<"$got") (expected each of 0…$((JOBS - 1)) once)"
say "every job ran exactly once: ${#results[@]} results over $TASKS tasks"

single_files=$(cd "$STATE/single/out" && ls | sort)
slurm_files=$(cd "$STATE/slurm/out" && ls | sort)
[[ $single_files == "$slurm_files" ]] || fail "the outputs differ: single [$single_files] vs slurm [$slurm_files]"
for f in $single_files; do
  cmp -s "$STATE/single/out/$f" "$STATE/slurm/out/$f" || fail "out/$f differs between the single process and Slurm"
done
say "outputs identical byte for byte: $(wc -w <<<"$single_files") files"
say "PASS in $(($(date +%s) - START)) s"
