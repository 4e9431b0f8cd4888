#!/usr/bin/env bash
# A one-node Slurm on localhost for the Slurm test (see README: Running on a Slurm cluster).
#   bash tests/scripts/slurm.sh install   # Debian's slurm-wlm and munge, if sbatch is missing
#   bash tests/scripts/slurm.sh up        # munge key, slurm.conf, munged, slurmctld, slurmd
#   bash tests/scripts/slurm.sh down      # stops the three daemons by the PIDs in their files
# Needs root (it writes /etc/slurm/slurm.conf and starts system daemons); made for CI machines.
set -euo pipefail

MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

install() {
    if command -v sbatch >/dev/null && command -v munged >/dev/null; then
        echo "slurm: already installed: $(dpkg-query -W -f '${Package} ${Version} ' slurm-wlm munge)"
        return
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    echo "slurm: installed: $(dpkg-query -W -f '${Package} ${Version} ' slurm-wlm munge)"
}

write_conf() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # slurmd -C prints the node as slurmd sees it; RealMemory a little below it.
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
    mem=$(( ${mem:-4000} * 9 / 10 ))
    mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
    chown slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm
    cat > /etc/slurm/slurm.conf <<CONF
# Written by hasim's tests/scripts/slurm.sh: one node on localhost.
ClusterName=hasim-ci
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
# Schedule dependent jobs within seconds (the default pass is every 60 s).
SchedulerParameters=sched_interval=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

# Daemons this script started, so `down` stops only those (never a Slurm that was running).
STARTED=/run/hasim-slurm.started

up() {
    if sinfo -h >/dev/null 2>&1; then
        echo "slurm: already up: $(sinfo -h -o '%P %D %t %c'); left as it is"
        return
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    write_conf
    mkdir -p /run/munge && chown munge:munge /run/munge
    echo "$SLURMD_PID $CTLD_PID $MUNGE_PID" > "$STARTED"
    runuser -u munge -- /usr/sbin/munged
    munge -n | unmunge | grep -q 'STATUS: *Success' || { echo "slurm: munge does not work" >&2; exit 1; }
    /usr/sbin/slurmctld
    /usr/sbin/slurmd
    # The node registers within seconds; wait for it (at most 60 s).
    for _ in $(seq 60); do
        if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            echo "slurm: up: $(sinfo -h -o '%P %D %t %c')"
            return
        fi
        sleep 1
    done
    echo "slurm: the node did not come up; slurmctld log:" >&2
    tail -20 /var/log/slurm/slurmctld.log >&2 || true
    exit 1
}

stop_pid() {
    local file=$1 name=$2 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "slurm: stopped $name (pid $pid)"
    fi
}

down() {
    [ -f "$STARTED" ] || { echo "slurm: not started by this script; left running"; return; }
    stop_pid "$SLURMD_PID" slurmd
    stop_pid "$CTLD_PID" slurmctld
    stop_pid "$MUNGE_PID" munged
    rm -f "$STARTED"
}

case "${1:-}" in
    install) install ;;
    up) up ;;
    down) down ;;
    *) echo "usage: $0 install|up|down" >&2; exit 2 ;;
esac
