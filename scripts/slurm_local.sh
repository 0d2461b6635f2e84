#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for testing profiles/slurm.
#
#   scripts/slurm_local.sh install   # apt-get Debian's slurm-wlm + munge when missing
#   scripts/slurm_local.sh start     # install if needed, write slurm.conf, start munged,
#                                    # slurmctld, slurmd; wait until the node is idle
#   scripts/slurm_local.sh status    # sinfo / squeue
#   scripts/slurm_local.sh env       # prints `export SLURM_CONF=...` (eval it in your shell)
#   scripts/slurm_local.sh stop      # stop slurmd, slurmctld and the munged we started
#
# Needs root (package installation, daemons). Everything it writes lives in one state
# folder, $IRPIPE_SLURM_DIR (default /var/tmp/irpipe-slurm): slurm.conf, spool, state, logs,
# pid files. The only file outside it is /etc/slurm/slurm.conf, a symbolic link to that
# slurm.conf: the client commands need the configuration at its default place because the
# executor's job step (snakemake-executor-plugin-slurm-jobstep) removes SLURM_CONF from the
# environment of its nested `srun`. An existing /etc/slurm/slurm.conf that is not our link
# is never replaced (start fails instead); `stop` removes our link.
#
# The configuration follows the facts checked in DESIGN.md section 8: SlurmUser=root,
# munge authentication, select/cons_tres with cores and memory as consumables,
# proctrack/linuxproc and task/none (no cgroups needed), no accounting (so the executor
# must query job states with squeue; MinJobAge keeps finished jobs visible to squeue for
# 5 minutes), one node described by `slurmd -C` (the machine's real CPUs and memory),
# one default partition.
set -euo pipefail

DIR=${IRPIPE_SLURM_DIR:-/var/tmp/irpipe-slurm}
CONF="$DIR/slurm.conf"
SYS_CONF=/etc/slurm/slurm.conf
PARTITION=${IRPIPE_SLURM_PARTITION:-debug}
WAIT_S=${IRPIPE_SLURM_WAIT_S:-60}
export SLURM_CONF="$CONF"

log() { echo "[slurm_local] $*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (installs packages and starts daemons)"
}

installed() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null
}

cmd_install() {
    if installed; then
        log "slurm and munge already installed ($(slurmctld -V 2>/dev/null || echo '?'))"
        return 0
    fi
    need_root
    command -v apt-get >/dev/null || die "slurm/munge missing and no apt-get to install them"
    log "installing slurm-wlm (slurmctld, slurmd, slurm-client) and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # slurm-wlm is the metapackage of exactly these three; naming them with
    # --no-install-recommends skips ~40 optional plugin/dev packages.
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    installed || die "installation finished but slurm binaries are still missing"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        log "munged already running"
        return 0
    fi
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating /etc/munge/munge.key"
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
            || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
    for d in /run/munge /var/lib/munge /var/log/munge; do
        mkdir -p "$d"; chown munge:munge "$d"
    done
    chmod 0755 /run/munge
    # munged refuses to run as root: start it as the munge user.
    if command -v runuser >/dev/null; then
        runuser -u munge -- /usr/sbin/munged
    else
        su -s /bin/sh munge -c /usr/sbin/munged
    fi
    for _ in $(seq 1 50); do
        if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
            mkdir -p "$DIR"; touch "$DIR/munged.ours"
            log "munged started"; return 0
        fi
        sleep 0.2
    done
    die "munged did not come up (see /var/log/munge/munged.log)"
}

write_conf() {
    local host node_line
    host=$(hostname -s)
    # The node's real hardware as slurmd sees it (CPUs, sockets, cores, threads, memory).
    node_line=$(slurmd -C | head -n 1)
    [[ "$node_line" == NodeName=* ]] || die "slurmd -C gave no node description: $node_line"
    # Name resolution of the short host name is not guaranteed in containers: pin the
    # address to loopback, which is all a single-node cluster needs.
    node_line="$node_line NodeAddr=127.0.0.1 NodeHostname=$host State=UNKNOWN"
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    cat >"$CONF.tmp" <<EOF
# Written by scripts/slurm_local.sh: a single-node SLURM for testing irpipe's profiles/slurm.
ClusterName=irpipe-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=${IRPIPE_SLURMCTLD_PORT:-6817}
SlurmdPort=${IRPIPE_SLURMD_PORT:-6818}
$node_line
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
    log "wrote $CONF ($node_line)"
    mkdir -p /etc/slurm
    if [ -L "$SYS_CONF" ] && [ "$(readlink "$SYS_CONF")" = "$CONF" ]; then
        :
    elif [ -e "$SYS_CONF" ] || [ -L "$SYS_CONF" ]; then
        die "$SYS_CONF exists and is not ours: refusing to replace a real SLURM configuration"
    else
        ln -s "$CONF" "$SYS_CONF"
        log "linked $SYS_CONF -> $CONF"
    fi
}

running() {  # running <pidfile>
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

node_state() {
    sinfo --noheader --partition "$PARTITION" --format '%t' 2>/dev/null | head -n 1 | tr -d '[:space:]*'
}

cmd_start() {
    need_root
    cmd_install
    start_munge
    if running "$DIR/slurmctld.pid" && running "$DIR/slurmd.pid" && [ "$(node_state)" = idle ]; then
        log "already running; node idle"
        return 0
    fi
    write_conf
    if ! running "$DIR/slurmctld.pid"; then
        # -c: start clean (no jobs or node state from an earlier run).
        slurmctld -c -f "$CONF"
    fi
    if ! running "$DIR/slurmd.pid"; then
        slurmd -f "$CONF"
    fi
    local state=""
    for _ in $(seq 1 $((WAIT_S * 2))); do
        state=$(node_state || true)
        if [ "$state" = idle ]; then
            log "node $(hostname -s) idle in partition $PARTITION"
            sinfo >&2
            return 0
        fi
        # A node left down/drained by an earlier run of the daemons: resume it.
        if [[ "$state" == down* || "$state" == drain* ]]; then
            scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true
        fi
        sleep 0.5
    done
    log "node did not become idle within ${WAIT_S}s (state: '${state}')"
    tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    exit 1
}

stop_pidfile() {  # stop_pidfile <name> <pidfile>
    local pid
    if running "$2"; then
        pid=$(cat "$2")
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        log "stopped $1 (pid $pid)"
    fi
    rm -f "$2"
}

cmd_stop() {
    need_root
    stop_pidfile slurmd "$DIR/slurmd.pid"
    stop_pidfile slurmctld "$DIR/slurmctld.pid"
    # Only a munged that `start` launched; one run by the system stays.
    if [ -e "$DIR/munged.ours" ]; then
        stop_pidfile munged /run/munge/munged.pid
        rm -f "$DIR/munged.ours"
    fi
    if [ -L "$SYS_CONF" ] && [ "$(readlink "$SYS_CONF")" = "$CONF" ]; then
        rm -f "$SYS_CONF"
    fi
}

cmd_status() {
    sinfo
    squeue --states=all
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *) echo "usage: $0 {install|start|stop|status|env}" >&2; exit 2 ;;
esac
