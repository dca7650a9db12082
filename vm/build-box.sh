#!/usr/bin/env bash
# Build a vagrant-libvirt box of Debian bookworm from Debian packages only.
#
#   vm/build-box.sh            build (or reuse) the box; prints its path on stdout
#   vm/build-box.sh --path     print the path the box would have, build nothing
#
# The box is cached by content: the SHA-256 of this script, the Vagrant insecure
# public key and the settings below names the output file, so a second run with
# nothing changed only prints the path.  Logs go to stderr.
#
# Environment:
#   LABKIT_BOX_CACHE     cache directory            (default /var/cache/labkit/boxes)
#   LABKIT_BOX_MIRROR    Debian mirror              (default http://deb.debian.org/debian)
#   LABKIT_BOX_SECURITY  Debian security mirror     (default http://deb.debian.org/debian-security)
#   LABKIT_BOX_DISK_GB   virtual disk size in GiB   (default 8)
#   LABKIT_BOX_REBUILD=1 ignore the cached box and build again
#   TMPDIR               where the ~1.5 GB scratch tree goes (default /var/tmp)
#
# Needs root and: debootstrap, mkfs.ext4 (e2fsprogs >= 1.43), sfdisk, grub-mkimage
# with /usr/lib/grub/i386-pc (grub-pc-bin), qemu-img, the vagrant package (insecure key).
# No loop device, no mount of the image: the file system is written with mkfs.ext4 -d.
set -euo pipefail

SUITE=bookworm
MIRROR=${LABKIT_BOX_MIRROR:-http://deb.debian.org/debian}
SECURITY=${LABKIT_BOX_SECURITY:-http://deb.debian.org/debian-security}
CACHE=${LABKIT_BOX_CACHE:-/var/cache/labkit/boxes}
DISK_GB=${LABKIT_BOX_DISK_GB:-8}
NAME=labkit-$SUITE
# The kernel command line of the guest.
# (fsck.mode=skip: a disposable VM; the root fsck took ~13 s of boot under TCG)
CMDLINE="root=/dev/vda1 rw fsck.mode=skip net.ifnames=0 mitigations=off console=ttyS0"
# Installed with apt inside the new root (apt resolves the dependencies).
PACKAGES=(
    systemd-sysv udev dbus kmod netbase procps less
    initramfs-tools zstd
    openssh-server sudo rsync ca-certificates systemd-resolved
    python3 python3-venv
    iproute2 tcpdump iputils-ping nftables dnsmasq-base ethtool
)
# Added when the suite has them (the labkit agent needs pyroute2 without PyPI).
OPTIONAL_PACKAGES=(python3-pyroute2)
# Loaded by the initramfs; everything else comes from the full module tree on disk.
INITRAMFS_MODULES=(virtio_pci virtio_blk virtio_scsi virtio_net virtio_console crc32c_generic ext4)
GRUB_MODULES=(biosdisk part_msdos ext2 linux boot echo)

log() { printf '[build-box %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

SELF=$(readlink -f "${BASH_SOURCE[0]}")

# ---------------------------------------------------------------- phase 2: the root file system
# Runs in a private mount namespace (unshare -m), so /proc, /sys and /dev mounted into the
# chroot disappear with the process, whatever happens.
rootfs_phase() {
    local work=$1 root=$1/rootfs
    mount --make-rprivate /
    chroot_in() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --bind /dev "$root/dev"
    mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null || true
    mkdir -p "$CACHE/apt-archives/partial"
    mount --bind "$CACHE/apt-archives" "$root/var/cache/apt/archives"

    # no daemon may start inside the chroot
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"

    cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
    # initramfs: a short list of modules instead of "most" (faster build, smaller initrd)
    mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
    printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/labkit.conf"
    {
        printf '#!/bin/sh\n# labkit: virtio + ext4 in a MODULES=list initramfs\n'
        printf 'case "$1" in prereqs) echo ""; exit 0;; esac\n'
        printf '. /usr/share/initramfs-tools/hook-functions\n'
        for m in "${INITRAMFS_MODULES[@]}"; do printf 'force_load %s\n' "$m"; done
    } >"$root/etc/initramfs-tools/hooks/labkit"
    chmod 755 "$root/etc/initramfs-tools/hooks/labkit"
    # the kernel needs no bootloader hooks: the box boots a fixed GRUB core.img
    printf 'do_symlinks = yes\nlink_in_boot = no\n' >"$root/etc/kernel-img.conf"

    local apt_opts=(-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -o APT::Install-Recommends=false
        -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=false -q)
    log "apt-get update (in the new root)"
    chroot_in apt-get "${apt_opts[@]}" update >&2
    local pkgs=("${PACKAGES[@]}") p
    for p in "${OPTIONAL_PACKAGES[@]}"; do
        if chroot_in apt-cache show "$p" >/dev/null 2>&1; then pkgs+=("$p")
        else log "optional package $p is not in $SUITE: skipped"; fi
    done
    log "apt-get install ${pkgs[*]}"
    chroot_in apt-get "${apt_opts[@]}" -y install "${pkgs[@]}" >&2
    # systemd-resolved has made /etc/resolv.conf a symlink to its (not running) stub: restore DNS
    rm -f "$root/etc/resolv.conf"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    # the kernel last, so that the initramfs is generated once, with every hook in place
    log "apt-get install linux-image-amd64"
    chroot_in apt-get "${apt_opts[@]}" -y install linux-image-amd64 >&2

    # --- configuration of the guest
    echo labkit >"$root/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tlabkit\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    printf '/dev/vda1\t/\text4\terrors=remount-ro\t0\t0\n' >"$root/etc/fstab"
    mkdir -p "$root/etc/systemd/network"
    cat >"$root/etc/systemd/network/20-eth.network" <<'EOF'
[Match]
Name=eth*

[Network]
DHCP=yes

[DHCPv4]
UseDomains=yes
UseHostname=no
EOF
    # ssh host keys are made on first boot, so that no two VMs share them
    rm -f "$root"/etc/ssh/ssh_host_*
    cat >"$root/etc/systemd/system/labkit-ssh-hostkeys.service" <<'EOF'
[Unit]
Description=Generate the SSH host keys on first boot
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
# ed25519 only: a 3072-bit RSA key took ~50 s under TCG (Vagrant's net-ssh speaks ed25519)
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key

[Install]
WantedBy=multi-user.target ssh.service
EOF
    mkdir -p "$root/etc/ssh/sshd_config.d"
    printf 'UseDNS no\nGSSAPIAuthentication no\nHostKey /etc/ssh/ssh_host_ed25519_key\n' \
        >"$root/etc/ssh/sshd_config.d/labkit.conf"
    chroot_in systemctl enable systemd-networkd.service labkit-ssh-hostkeys.service >&2
    # The guest needs no DNS in CI; systemd-resolved costs ~13 s of boot under TCG.  vm/provision.sh
    # enables it (and the stub resolv.conf) when a learner's VM needs PyPI.
    chroot_in systemctl disable systemd-resolved.service >&2
    rm -f "$root/etc/resolv.conf"
    : >"$root/etc/resolv.conf"
    # nothing may hold the dpkg lock while Vagrant provisions; the rest only slows the boot
    # (no libpam-systemd: sessions do not need logind; no display: no getty on tty1)
    chroot_in systemctl mask apt-daily.timer apt-daily-upgrade.timer systemd-networkd-wait-online.service \
        e2scrub_reap.service e2scrub_all.timer systemd-logind.service getty@tty1.service >&2

    # user vagrant: password-less sudo, Vagrant's insecure public key (Vagrant swaps it on first up)
    chroot_in useradd --create-home --shell /bin/bash --groups sudo vagrant
    chroot_in usermod --password '*' vagrant
    printf 'vagrant ALL=(ALL) NOPASSWD:ALL\nDefaults:vagrant !requiretty\n' >"$root/etc/sudoers.d/vagrant"
    chmod 440 "$root/etc/sudoers.d/vagrant"
    install -d -m 700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
    install -m 600 -o 1000 -g 1000 "$VAGRANT_PUBKEY" "$root/home/vagrant/.ssh/authorized_keys"
    [[ $(chroot_in id -u vagrant) == 1000 ]] || die "user vagrant did not get uid 1000"

    # --- clean up: smaller box, a fresh machine-id per VM (the .debs stay in the host's cache)
    umount "$root/var/cache/apt/archives"
    chroot_in apt-get -q clean >&2
    rm -f "$root/usr/sbin/policy-rc.d"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
}

# ---------------------------------------------------------------- phase 1: checks and cache
# Long steps run in the background and are waited for, so that SIGINT/SIGTERM stop them at once.
CHILD=
run_child() {
    local rc=0
    "$@" &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}
on_signal() {
    [[ -n $CHILD ]] && kill -TERM "$CHILD" 2>/dev/null && wait "$CHILD" 2>/dev/null
    exit 130
}

need() { command -v "$1" >/dev/null 2>&1 || die "missing command $1 (apt-get install $2)"; }

main() {
    local mode=${1:-build}
    VAGRANT_PUBKEY=$(dpkg -L vagrant 2>/dev/null | grep '/keys/vagrant.pub$' | head -n1 || true)
    [[ -n $VAGRANT_PUBKEY && -f $VAGRANT_PUBKEY ]] || die "Vagrant's insecure public key not found (apt-get install vagrant)"
    export VAGRANT_PUBKEY

    local hash
    hash=$({
        cat "$SELF" "$VAGRANT_PUBKEY"
        printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY" "$DISK_GB"
    } | sha256sum | cut -c1-16)
    BOX=$CACHE/$NAME-$hash.box
    local box=$BOX
    if [[ $mode == --path ]]; then echo "$box"; return 0; fi
    if [[ ${LABKIT_BOX_REBUILD:-0} != 1 && -s $box ]]; then
        log "cached: $box"
        ln -sfn "$(basename "$box")" "$CACHE/$NAME.box"
        echo "$box"
        return 0
    fi

    [[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot and file ownership need it)"
    need debootstrap debootstrap; need mkfs.ext4 e2fsprogs; need sfdisk fdisk
    need grub-mkimage grub-pc-bin; need qemu-img qemu-utils; need unshare util-linux; need flock util-linux
    [[ -f /usr/lib/grub/i386-pc/boot.img ]] || die "missing /usr/lib/grub/i386-pc (apt-get install grub-pc-bin)"

    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock 9
    if [[ ${LABKIT_BOX_REBUILD:-0} != 1 && -s $box ]]; then  # built by a concurrent run
        echo "$box"; return 0
    fi

    local t0=$SECONDS
    WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/labkit-box.XXXXXX")
    trap 'rm -rf --one-file-system "$WORK" "$BOX.part"' EXIT
    trap on_signal INT TERM

    log "debootstrap --variant=minbase $SUITE ($MIRROR) into $WORK/rootfs"
    mkdir -p "$CACHE/debootstrap-debs"
    run_child debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap-debs" \
        "$SUITE" "$WORK/rootfs" "$MIRROR" >&2
    log "debootstrap done after $((SECONDS - t0)) s"

    # the chroot work runs in a private mount namespace: its mounts cannot outlive it
    SUITE=$SUITE MIRROR=$MIRROR SECURITY=$SECURITY CACHE=$CACHE \
        run_child unshare --mount --propagation private "$SELF" __rootfs "$WORK"
    log "root file system done after $((SECONDS - t0)) s ($(du -sh --one-file-system "$WORK/rootfs" | cut -f1))"

    local root=$WORK/rootfs kver
    kver=$(cd "$root/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | sort -V | tail -n1)
    [[ -n $kver && -f $root/boot/initrd.img-$kver ]] || die "no kernel/initrd in the root file system"
    [[ -d $root/lib/modules/$kver/kernel/net/8021q ]] || die "kernel modules missing in /lib/modules/$kver"
    log "kernel $kver"

    # GRUB: an i386-pc core.img with an embedded config that boots the kernel directly
    cat >"$WORK/early.cfg" <<EOF
set root=(hd0,msdos1)
echo "labkit: booting $kver"
linux /boot/vmlinuz-$kver $CMDLINE
initrd /boot/initrd.img-$kver
boot
EOF
    mkdir -p "$root/boot/grub"
    cp "$WORK/early.cfg" "$root/boot/grub/labkit-embedded.cfg"  # for reference only
    grub-mkimage -O i386-pc -o "$WORK/core.img" -p '(hd0,msdos1)/boot/grub' \
        -c "$WORK/early.cfg" "${GRUB_MODULES[@]}"
    local core_sectors=$(( ($(stat -c %s "$WORK/core.img") + 511) / 512 ))
    (( core_sectors < 2047 )) || die "core.img too large for the MBR gap ($core_sectors sectors)"

    # raw disk: MBR + one partition at 1 MiB holding an ext4 made from the tree (no mount)
    local raw=$WORK/disk.raw disk_bytes=$((DISK_GB * 1024 * 1024 * 1024))
    local part_bytes=$((disk_bytes - 1048576))
    truncate -s "$disk_bytes" "$raw"
    printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --no-reread --no-tell-kernel -q "$raw" >&2
    log "mkfs.ext4 -d (root file system into the image)"
    mkfs.ext4 -q -F -L labkit-root -E offset=1048576 -d "$root" "$raw" "$((part_bytes / 1024))k" >&2
    dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none
    dd if="$WORK/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
    rm -rf --one-file-system "$root"

    log "qemu-img convert -c -O qcow2"
    mkdir -p "$WORK/box"
    if ! qemu-img convert -c -O qcow2 -o compression_type=zstd "$raw" "$WORK/box/box.img" 2>/dev/null; then
        qemu-img convert -c -O qcow2 "$raw" "$WORK/box/box.img"
    fi
    rm -f "$raw"
    cat >"$WORK/box/metadata.json" <<EOF
{"provider": "libvirt", "format": "qcow2", "virtual_size": $DISK_GB}
EOF
    cat >"$WORK/box/Vagrantfile" <<'EOF'
# labkit box: Debian bookworm built from Debian packages by vm/build-box.sh
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.disk_bus = "virtio"
    lv.nic_model_type = "virtio"
  end
end
EOF
    cat >"$WORK/box/info.json" <<EOF
{"name": "$NAME", "kernel": "$kver", "built_by": "vm/build-box.sh", "hash": "$hash"}
EOF
    tar -C "$WORK/box" -cf "$box.part" metadata.json Vagrantfile info.json box.img
    mv -f "$box.part" "$box"
    ln -sfn "$(basename "$box")" "$CACHE/$NAME.box"
    # keep the cache small: older boxes of this name go
    find "$CACHE" -maxdepth 1 -name "$NAME-*.box" ! -name "$(basename "$box")" -delete
    log "box $box ($(du -m "$box" | cut -f1) MiB) built in $((SECONDS - t0)) s"
    echo "$box"
}

if [[ ${1:-} == __rootfs ]]; then
    rootfs_phase "$2"
else
    main "$@"
fi
