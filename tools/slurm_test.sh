#!/usr/bin/env bash
# Cluster test: runs a small run_study() and power_analysis() on a real one-node Slurm
# cluster through future.batchtools::batchtools_slurm and the template the package ships
# (inst/templates/slurm-causalsandbox.tmpl), and checks the estimates equal the sequential
# run's. Installs Debian's slurm-wlm and munge when absent, starts munged, slurmctld and
# slurmd with a private configuration (this machine, its CPUs, state under a scratch
# directory) and stops them on exit. A daemon that does not come up fails the test with its
# log. Needs root (apt-get, slurmd) and the package installed (make install).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

as_root=""
[ "$(id -u)" -ne 0 ] && as_root="sudo"

missing=""
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "== installing$missing"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing
fi

work=$(mktemp -d /tmp/causalsandbox-slurm.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/munge" "$work/state" "$work/spool" "$work/log" "$work/jobs"
chmod 700 "$work/munge"
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

fail_with_log() {
  echo "Slurm test: $1 did not start; its log:" >&2
  cat "$2" >&2 || true
  exit 1
}

# munge: a fresh key and a private socket, so a munged already on the machine is not touched
echo "== starting munged"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
munged --force --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" \
  --seed-file="$work/munge/munged.seed" || fail_with_log munged "$work/log/munged.log"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
[ -s "$work/munge/munged.pid" ] || fail_with_log munged "$work/log/munged.log"
pids+=("$(cat "$work/munge/munged.pid")")
munge --socket="$socket" -n | unmunge --socket="$socket" >/dev/null ||
  fail_with_log "munged (credential round trip)" "$work/log/munged.log"

node=$(hostname -s)
cpus=$(nproc)
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=causalsandbox
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

echo "== starting slurmctld and slurmd (node $node, $cpus CPUs)"
slurmctld -f "$SLURM_CONF" || fail_with_log slurmctld "$work/log/slurmctld.log"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.1; done
[ -s "$work/slurmctld.pid" ] || fail_with_log slurmctld "$work/log/slurmctld.log"
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" || fail_with_log slurmd "$work/log/slurmd.log"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
[ -s "$work/slurmd.pid" ] || fail_with_log slurmd "$work/log/slurmd.log"
pids+=("$(cat "$work/slurmd.pid")")

# the node must become idle before jobs can run
ready=""
for _ in $(seq 60); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  case "$state" in idle*|mix*|alloc*) ready=yes; break ;; esac
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "Slurm test: node $node not idle (state: '${state:-none}')" >&2
  echo "--- slurmctld log" >&2; cat "$work/log/slurmctld.log" >&2 || true
  fail_with_log slurmd "$work/log/slurmd.log"
fi
echo "Slurm up after $(( $(date +%s) - start )) s"
# a shell job first: a failure here is Slurm's, not R's
srun -N1 -n1 --time=1 true || fail_with_log "a test job (srun true)" "$work/log/slurmd.log"

echo "== study and power analysis, sequential and through batchtools_slurm"
cd "$work/jobs"
study_start=$(date +%s)
CAUSALSANDBOX_SLURM_REGISTRY="$work/jobs/.future" \
  Rscript "$OLDPWD/tools/slurm_study.R" || {
    echo "--- slurmctld log (tail)" >&2; tail -n 40 "$work/log/slurmctld.log" >&2 || true
    echo "--- slurmd log (tail)" >&2; tail -n 40 "$work/log/slurmd.log" >&2 || true
    exit 1
  }
cd "$OLDPWD"
echo "== Slurm test passed: $(( $(date +%s) - study_start )) s of R, $(( $(date +%s) - start )) s in all"
