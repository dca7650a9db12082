#!/usr/bin/env bash
# Provisions the labkit guest (run by the Vagrantfile as root inside the VM).
#
#   LABKIT_VM_MINIMAL=1  CI: no network beyond the management net, so no apt and no PyPI.
#                        Only checks that the agent's needs (python3 + pyroute2 from Debian,
#                        iproute2, tcpdump, ...) are present and makes `python3 -m labkit...`
#                        importable from the synced source.
#   otherwise            a learner's VM: installs what the box lacks with apt, labkit from the
#                        synced source into /opt/labkit/venv, and JupyterLab as a systemd
#                        service on port 8888 (forwarded to the host's 127.0.0.1:8888).
#   LABKIT_SRC           the synced repository in the guest (default /vagrant)
set -euo pipefail

SRC=${LABKIT_SRC:-/vagrant}
MINIMAL=${LABKIT_VM_MINIMAL:-0}
VENV=/opt/labkit/venv
PORT=${LABKIT_JUPYTER_GUEST_PORT:-8888}
NEEDED=(python3 python3-venv python3-pyroute2 iproute2 tcpdump iputils-ping nftables dnsmasq-base ethtool kmod sudo)

log() { printf '[labkit provision] %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${NEEDED[@]}"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $MINIMAL == 1 ]]; then
        log "error: the box lacks ${missing[*]} and LABKIT_VM_MINIMAL=1 forbids the network; build it with vm/build-box.sh"
        exit 1
    fi
    log "apt-get install ${missing[*]}"
    apt-get -q update
    apt-get -q -y install --no-install-recommends "${missing[@]}"
fi

# The agent (python3 -m labkit.targets.agent) runs from the synced source with Debian's
# python3 + pyroute2: a .pth file puts the source on the system interpreter's path.
[[ -d $SRC/labkit ]] || log "warning: $SRC/labkit does not exist (yet): is the repository synced?"
site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
mkdir -p "$site"
printf '%s\n' "$SRC" >"$site/labkit-src.pth"
log "python3 imports labkit from $SRC ($(python3 -c 'import pyroute2; print("pyroute2", pyroute2.__version__)' 2>/dev/null || echo 'pyroute2 missing'))"

if [[ $MINIMAL == 1 ]]; then
    log "minimal provisioning done (no JupyterLab)"
    exit 0
fi

# --- the learner's JupyterLab
if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv --system-site-packages "$VENV"
fi
log "pip install labkit (from $SRC) and JupyterLab"
"$VENV/bin/pip" install -q --upgrade pip
if [[ -f $SRC/pyproject.toml ]]; then
    "$VENV/bin/pip" install -q -e "$SRC" || "$VENV/bin/pip" install -q "$SRC"
fi
"$VENV/bin/pip" install -q jupyterlab ipywidgets

install -d -m 700 /etc/labkit
if [[ ! -s /etc/labkit/jupyter.env ]]; then
    umask 077
    printf 'JUPYTER_TOKEN=%s\n' "$(python3 -c 'import secrets; print(secrets.token_hex(24))')" >/etc/labkit/jupyter.env
fi
root_dir=$SRC/notebooks
[[ -d $root_dir ]] || root_dir=$SRC
cat >/etc/systemd/system/labkit-jupyter.service <<EOF
[Unit]
Description=JupyterLab for labkit (runs as root: the labs create namespaces and devices)
After=network.target

[Service]
EnvironmentFile=/etc/labkit/jupyter.env
WorkingDirectory=$root_dir
ExecStart=$VENV/bin/jupyter lab --ip=0.0.0.0 --port=$PORT --no-browser --allow-root --ServerApp.root_dir=$root_dir
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable labkit-jupyter.service
systemctl restart labkit-jupyter.service
log "JupyterLab service started (the URL is printed at the end of vagrant up)"
