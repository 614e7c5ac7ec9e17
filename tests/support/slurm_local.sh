#!/usr/bin/env bash
# slurm_local.sh: a throwaway single-node Slurm cluster (munged + slurmctld + slurmd from Debian's slurm-wlm and
# munge) with its own key, config, ports and spool in a temp folder; runs CMD against it (SLURM_CONF set), waits
# until the queue is empty, then stops every daemon it started and removes the folder, also on failure or ^C.
#   tests/support/slurm_local.sh CMD [ARGS...]
# Exit: CMD's status; 1 when a job ended in another state than COMPLETED or the queue did not drain in
# GB_SLURM_TIMEOUT seconds (default 120); 77 when the cluster cannot be brought up here (packages missing, or
# daemons that cannot start: the message says which, and its log).
# Works as root in a container: no systemd, no cgroups (proctrack/linuxproc, task/none), the node's CPUs from the
# config (SlurmdParameters=config_overrides).
set -uo pipefail
skip() { echo "slurm_local: SKIP: $*" >&2; exit 77; }
for c in munged slurmctld slurmd sbatch squeue sacct scontrol; do
  command -v "$c" >/dev/null 2>&1 || skip "$c not found (Debian: apt-get install slurm-wlm munge)"
done
[ "$#" -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
dir=$(mktemp -d /tmp/gb-slurm.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free TCP ports for slurmctld and slurmd (other clusters may run beside this one).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
user=$(id -un)
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
sock=$dir/munge/munge.socket
munged --force --socket="$sock" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
  --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" 2>"$dir/munge/start.err" ||
  skip "munged cannot start: $(tail -n1 "$dir/munge/start.err")"
pids+=("$(cat "$dir/munge/munged.pid")")

cat > "$dir/slurm.conf" <<EOF
ClusterName=gbtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$user
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SwitchType=switch/none
MpiDefault=none
LaunchParameters=use_interactive_step
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=${GB_SLURM_CPUS:-8} State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
pids+=("$!")
slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
pids+=("$!")
# Up when the node is idle (slurmd registered with slurmctld).
up=0
for _ in $(seq 100); do
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || break 2; done
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
  [ "$state" = idle ] && { up=1; break; }
  sleep 0.2
done
if [ "$up" = 0 ]; then
  tail -n 3 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/slurmctld.out" "$dir/slurmd.out" >&2 2>/dev/null
  skip "slurmctld + slurmd did not come up (node state '${state:-none}'; logs above)"
fi
echo "slurm_local: cluster up in $dir (node $host, ports $ctld_port/$slurmd_port)" >&2

"$@"
rc=$?
# Wait for every job (arrays and dependent jobs included) to leave the queue.
timeout=${GB_SLURM_TIMEOUT:-120}
drained=0
for _ in $(seq $((timeout * 5))); do
  [ -z "$(squeue -h -o %i 2>/dev/null)" ] && { drained=1; break; }
  sleep 0.2
done
if [ "$drained" = 0 ]; then
  echo "slurm_local: jobs still queued after ${timeout}s:" >&2
  squeue >&2
  rc=1
fi
# Every finished job must have completed (the completion log has one line per job).
if grep -v "JobState=COMPLETED" "$dir/jobcomp.txt" 2>/dev/null | grep -q .; then
  echo "slurm_local: a job did not complete:" >&2
  grep -v "JobState=COMPLETED" "$dir/jobcomp.txt" | cut -c1-300 >&2
  [ "$rc" = 0 ] && rc=1
fi
echo "slurm_local: $(grep -c . "$dir/jobcomp.txt" 2>/dev/null || echo 0) job(s) finished" >&2
exit "$rc"
