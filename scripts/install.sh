#!/usr/bin/env bash
# Install everything labkit needs on Debian 12 (run as root): apt packages, then a
# virtual environment at .venv/ with labkit and its Python dependencies.
#   scripts/install.sh          the lab (JupyterLab, graphviz, tcpdump, iproute2, ...)
#   scripts/install.sh --test   also what the test tiers need (chromium, vagrant + libvirt + qemu)
# Each part is skipped when it is already in place, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# wireshark-common ships sharkd: a packet row opens into Wireshark's tree (fields with their bytes) and
# Follow TCP/UDP stream. It is in the lab set, not only the test set: 21 MB to download, 127 MB installed
# (mostly libwireshark's dissectors), beside a 742 MB .venv; without it the rows fall back to scapy's layers.
# fonts-noto-cjk: the Chinese labs (notebooks/zh/) in the browser and any Chinese label Graphviz measures and
# draws on this machine; without a CJK font both show boxes ("tofu"). 57 MB to download, 93 MB installed.
BASE=(python3 python3-venv python3-pip graphviz tcpdump iproute2 iputils-ping nftables dnsmasq-base ethtool
      procps util-linux sudo ca-certificates wireshark-common fonts-noto-cjk)
TEST=(chromium fonts-dejavu-core vagrant vagrant-libvirt libvirt-daemon-system libvirt-clients qemu-system-x86
      qemu-utils debootstrap grub-pc-bin netcat-openbsd e2fsprogs fdisk openssh-client rsync)
packages=("${BASE[@]}")
[ "${1:-}" = "--test" ] && packages+=("${TEST[@]}")

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "labkit: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture (a setuid dumpcap): no, labkit captures with tcpdump
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get -o DPkg::Lock::Timeout=300 update -q
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=$(sha256sum pyproject.toml | cut -c1-16)
if [ "$(cat .venv/.labkit-stamp 2>/dev/null)" != "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import labkit, pyroute2, scapy, graphviz, jupyterlab, ipywidgets, anywidget" 
  echo "$stamp" > .venv/.labkit-stamp
fi
# JupyterLab saves the widgets' state with the notebook, so a saved lab reopens with its live pictures
# (every view also carries a static copy for exports and GitHub; see labkit/widgets/stepview.py)
mkdir -p .venv/share/jupyter/lab/settings
cat > .venv/share/jupyter/lab/settings/overrides.json <<'JSON'
{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}
JSON
echo "labkit: installed ($(.venv/bin/python --version), $(.venv/bin/pip show pyroute2 2>/dev/null | grep ^Version))"
