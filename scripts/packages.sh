# The Debian packages labkit needs, in one place, and how they are installed (sourced by scripts/install.sh
# and scripts/install-system.sh; the Dockerfile's and binder/apt.txt's lists are tested against BASE).

# wireshark-common ships sharkd: a packet row opens into Wireshark's tree (fields with their bytes) and
# Follow TCP/UDP stream. It is in the lab set, not only the test set: 21 MB to download, 127 MB installed
# (mostly libwireshark's dissectors), beside a 742 MB .venv; without it the rows fall back to scapy's layers.
# fonts-noto-cjk: the Chinese labs (notebooks/zh/) in the browser and any Chinese label Graphviz measures and
# draws on this machine; without a CJK font both show boxes ("tofu"). 57 MB to download, 93 MB installed.
BASE=(python3 python3-venv python3-pip graphviz tcpdump iproute2 iputils-ping nftables dnsmasq-base ethtool
      procps util-linux sudo ca-certificates wireshark-common fonts-noto-cjk)
TEST=(chromium fonts-dejavu-core vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86
      qemu-utils debootstrap grub-pc-bin netcat-openbsd e2fsprogs fdisk openssh-client rsync)

# apt_ensure PKG...: install those of the packages that are missing (one apt run; nothing when all are there)
apt_ensure() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "labkit: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture (a setuid dumpcap): no, labkit captures with tcpdump
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get -o DPkg::Lock::Timeout=300 update -q
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
}
