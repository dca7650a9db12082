#!/usr/bin/env bash
# A disposable sandbox for the labkit VM: one network namespace with only loopback (no route
# out) plus a private mount namespace, with virtlogd and libvirtd running inside both.  The
# libvirt management bridge (192.168.121.0/24), its dnsmasq and the VMs exist only in there,
# and libvirt's state (/run/libvirt, /var/lib/libvirt, /var/log/libvirt, /etc/libvirt) is a
# private copy under the state directory: the host's interfaces, routes, firewall, cgroups
# and libvirt configuration are never touched.
#
#   vm/sandbox.sh start          create the namespaces, start virtlogd + libvirtd inside
#   vm/sandbox.sh run CMD ...    run CMD inside (cwd kept), e.g. run vagrant up
#   vm/sandbox.sh shell          an interactive shell inside
#   vm/sandbox.sh status         exit 0 if the sandbox is up (prints what runs inside)
#   vm/sandbox.sh stop           destroy its domains/networks/pools, stop the daemons it
#                                started (PID files), remove the namespaces and the state
#
# Environment:
#   LABKIT_VM_NETNS   name of the network namespace     (default labkit-vmci)
#   LABKIT_VM_STATE   state directory                   (default /var/tmp/labkit-vm/<netns>)
#   LABKIT_VM_CACHE   kept between sandboxes (libvirt's qemu capability cache)
#                                                       (default /var/cache/labkit/libvirt)
#   LABKIT_VM_OWNER_PID  recorded in <state>/owner (default: the pid of `start`)
# Inside `run`, VAGRANT_DOTFILE_PATH defaults to <state>/vagrant, so the machine's .vagrant
# folder goes away with the sandbox, and LABKIT_VM_NETNS / LABKIT_VM_SANDBOX are set.
set -euo pipefail

NS=${LABKIT_VM_NETNS:-labkit-vmci}
[[ $NS =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || { echo "sandbox: bad namespace name '$NS'" >&2; exit 2; }
STATE=${LABKIT_VM_STATE:-/var/tmp/labkit-vm/$NS}
LVCACHE=${LABKIT_VM_CACHE:-/var/cache/labkit/libvirt}
MNTNS=$STATE/mntns
NETNS=/run/netns/$NS
# host path -> private directory under $STATE, bind-mounted inside the mount namespace
PRIVATE_DIRS=(/run/libvirt:run /var/lib/libvirt:lib /var/log/libvirt:log /etc/libvirt:etc)

log() { printf '[sandbox %s %(%H:%M:%S)T] %s\n' "$NS" -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
inside() { nsenter --net="$NETNS" --mount="$MNTNS" -- "$@"; }

is_up() { [[ -f $STATE/owner && -e $NETNS ]] && mountpoint -q "$MNTNS" 2>/dev/null; }

# pid from a pid file, only if that process still runs the expected program
pid_of() { # pidfile comm
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/$pid/comm) == "$2" ]] || return 1
    echo "$pid"
}

wait_gone() { # pid seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do [[ -e /proc/$1 ]] || return 0; sleep 0.1; done
    return 1
}

stop_pid() { # pid name
    kill -TERM "$1" 2>/dev/null || return 0
    wait_gone "$1" 10 || { log "$2 ($1) ignored SIGTERM: SIGKILL"; kill -KILL "$1" 2>/dev/null || true; wait_gone "$1" 5 || true; }
}

cmd_start() {
    [[ $(id -u) == 0 ]] || die "run as root"
    if is_up; then log "already up ($STATE)"; return 0; fi
    [[ -e $NETNS ]] && die "network namespace $NS exists but is not a sandbox of this script; pick another LABKIT_VM_NETNS"
    [[ -e $STATE ]] && die "$STATE exists (a stale sandbox?): run '$0 stop' first"
    local c
    for c in ip nsenter unshare libvirtd virtlogd virsh dnsmasq mountpoint; do
        command -v "$c" >/dev/null || die "missing $c (apt-get install iproute2 util-linux libvirt-daemon-system dnsmasq-base)"
    done
    trap 'rc=$?; if ((rc != 0)); then log "start failed: cleaning up"; cmd_stop || true; fi' EXIT
    mkdir -p "$STATE" "$LVCACHE"
    # the owner pid (LABKIT_VM_OWNER_PID, e.g. a pytest session) lets a later run spot a stale sandbox
    echo "${LABKIT_VM_OWNER_PID:-$$} $(date -u +%FT%TZ)" >"$STATE/owner"

    log "network namespace $NS (loopback only)"
    ip netns add "$NS"
    echo netns >"$STATE/created-netns"
    ip -n "$NS" link set lo up

    # private copies of libvirt's directories
    local spec host sub
    for spec in "${PRIVATE_DIRS[@]}"; do
        host=${spec%%:*} sub=${spec##*:}
        mkdir -p "$STATE/$sub"
        if [[ ! -d $host ]]; then mkdir -p "$host"; echo "$host" >>"$STATE/created-dirs"; fi
    done
    mkdir -p /var/cache/libvirt
    cp -a /etc/libvirt/. "$STATE/etc/"
    rm -f "$STATE"/etc/qemu/networks/autostart/* "$STATE"/etc/qemu/networks/default.xml "$STATE"/etc/storage/autostart/* 2>/dev/null || true
    mkdir -p "$STATE/lib/images" "$STATE/lib/qemu" "$STATE/lib/dnsmasq" "$STATE/lib/network" "$STATE/log/qemu"
    cat >>"$STATE/etc/qemu.conf" <<'EOF'

# --- labkit sandbox (vm/sandbox.sh): qemu as root, no cgroups, no security driver, no extra namespaces
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
EOF
    cat >>"$STATE/etc/libvirtd.conf" <<'EOF'

# --- labkit sandbox (vm/sandbox.sh)
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF

    # a persistent mount namespace (held by a bind mount of its nsfs file): sysfs of the new
    # network namespace, and the private libvirt directories over the host's ones
    mount --bind "$STATE" "$STATE"
    mount --make-private "$STATE"
    echo bind >"$STATE/created-bind"
    touch "$MNTNS"
    local setup="set -e
umount -l /sys
mount -t sysfs sysfs /sys"
    for spec in "${PRIVATE_DIRS[@]}"; do
        host=${spec%%:*} sub=${spec##*:}
        setup+=$'\n'"mount --bind '$STATE/$sub' '$host'"
    done
    setup+=$'\n'"mount --bind '$LVCACHE' /var/cache/libvirt"
    nsenter --net="$NETNS" -- unshare --mount="$MNTNS" --propagation slave sh -c "$setup"

    log "starting virtlogd and libvirtd inside"
    inside virtlogd --daemon --pid-file "$STATE/virtlogd.pid"
    inside libvirtd --daemon --pid-file "$STATE/libvirtd.pid"
    local i
    for ((i = 0; i < 300; i++)); do
        inside virsh -q -c qemu:///system version >/dev/null 2>&1 && break
        sleep 0.1
    done
    inside virsh -q -c qemu:///system version >/dev/null 2>&1 || die "libvirtd did not answer (see $STATE/log/libvirtd.log)"
    trap - EXIT
    log "up: virtlogd $(pid_of "$STATE/virtlogd.pid" virtlogd), libvirtd $(pid_of "$STATE/libvirtd.pid" libvirtd); run commands with: $0 run CMD"
}

cmd_run() {
    is_up || die "the sandbox is not up: $0 start"
    [[ $# -gt 0 ]] || die "usage: $0 run CMD [ARGS...]"
    exec nsenter --net="$NETNS" --mount="$MNTNS" --wd="$PWD" -- env \
        LABKIT_VM_NETNS="$NS" LABKIT_VM_SANDBOX="$STATE" \
        VAGRANT_DOTFILE_PATH="${VAGRANT_DOTFILE_PATH:-$STATE/vagrant}" \
        VAGRANT_DEFAULT_PROVIDER=libvirt VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_BOX_UPDATE_CHECK_DISABLE=1 \
        LIBVIRT_DEFAULT_URI=qemu:///system "$@"
}

cmd_status() {
    if ! is_up; then echo "sandbox $NS: down"; return 1; fi
    echo "sandbox $NS: up (state $STATE)"
    local d
    for d in virtlogd libvirtd; do echo "  $d: $(pid_of "$STATE/$d.pid" "$d" || echo 'not running')"; done
    echo "  processes in the namespace:"
    ip netns pids "$NS" | while read -r p; do echo "    $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)"; done
    if pid_of "$STATE/libvirtd.pid" libvirtd >/dev/null; then
        inside virsh -q -c qemu:///system list --all | sed 's/^/  domain /' || true
        inside virsh -q -c qemu:///system net-list --all | sed 's/^/  network /' || true
    fi
}

cmd_stop() {
    local spec host sub pid d
    if [[ -e $NETNS && ! -f $STATE/owner ]]; then
        die "namespace $NS exists but $STATE/owner does not: not ours, left alone"
    fi
    if [[ -e $NETNS ]] && mountpoint -q "$MNTNS" 2>/dev/null && pid_of "$STATE/libvirtd.pid" libvirtd >/dev/null; then
        log "removing domains, networks and pools"
        local v="inside timeout 60 virsh -q -c qemu:///system"  # a hung libvirtd must not hang stop
        for d in $($v list --all --name 2>/dev/null); do
            $v destroy "$d" >/dev/null 2>&1 || true
            $v undefine "$d" --managed-save --snapshots-metadata --nvram --remove-all-storage >/dev/null 2>&1 \
                || $v undefine "$d" >/dev/null 2>&1 || true
        done
        for d in $($v net-list --all --name 2>/dev/null); do
            $v net-destroy "$d" >/dev/null 2>&1 || true
            $v net-undefine "$d" >/dev/null 2>&1 || true
        done
        for d in $($v pool-list --all --name 2>/dev/null); do
            $v pool-destroy "$d" >/dev/null 2>&1 || true
            $v pool-undefine "$d" >/dev/null 2>&1 || true
        done
    fi
    for d in libvirtd virtlogd; do
        if pid=$(pid_of "$STATE/$d.pid" "$d"); then log "stopping $d ($pid)"; stop_pid "$pid" "$d"; fi
    done
    if [[ -e $NETNS ]]; then
        # whatever still runs in our namespace was started by us (qemu, dnsmasq, a `run`)
        for pid in $(ip netns pids "$NS" 2>/dev/null); do
            log "stopping leftover process $pid in $NS: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
            stop_pid "$pid" leftover
        done
    fi
    if mountpoint -q "$MNTNS" 2>/dev/null; then umount "$MNTNS"; fi
    if [[ -f $STATE/created-bind ]] && mountpoint -q "$STATE"; then umount "$STATE"; fi
    if [[ -e $NETNS && -f $STATE/owner ]]; then log "deleting network namespace $NS"; ip netns del "$NS"; fi
    if [[ -f $STATE/created-dirs ]]; then
        while read -r host; do rmdir "$host" 2>/dev/null || true; done <"$STATE/created-dirs"
    fi
    if [[ -d $STATE ]] && ! mountpoint -q "$STATE"; then rm -rf --one-file-system "$STATE"; fi
    rmdir "$(dirname "$STATE")" 2>/dev/null || true
    log "stopped"
}

case ${1:-} in
start) cmd_start ;;
run) shift; cmd_run "$@" ;;
shell) cmd_run "${SHELL:-/bin/bash}" ;;
status) cmd_status ;;
stop) cmd_stop ;;
*) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
