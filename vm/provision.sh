#!/usr/bin/env bash
# Provisions the labkit guest (run by the Vagrantfile as root inside the VM).
#
#   LABKIT_VM_MINIMAL=1  CI: no network beyond the management net, so no apt and no PyPI.
#                        Only checks that the agent's needs (python3 + pyroute2 from Debian,
#                        iproute2, tcpdump, ...) are present, creates /vagrant (the controller
#                        copies labkit/ there over its own ssh connection) and makes
#                        `python3 -m labkit...` importable from it.
#   otherwise            a learner's VM: installs what the box lacks with apt, labkit from the
#                        synced source into /opt/labkit/venv, and JupyterLab as a systemd
#                        service on the guest's 127.0.0.1:8888 only, as user vagrant (not root),
#                        reachable from the host only through the forwarded loopback port.
#                        The labs' agent gets root through vagrant's password-less sudo (the
#                        sudo mode), so whoever holds the token is root in this disposable guest.
#   LABKIT_JUPYTER_USER  the user JupyterLab runs as (default vagrant; never root)
#   LABKIT_SRC           the synced repository in the guest (default /vagrant)
#   /opt/labkit/wheelhouse  when the Vagrantfile syncs one there (LABKIT_WHEELHOUSE on the host),
#                        pip installs from it only (--no-index): the full path without PyPI
set -euo pipefail

SRC=${LABKIT_SRC:-/vagrant}
MINIMAL=${LABKIT_VM_MINIMAL:-0}
VENV=/opt/labkit/venv
PORT=${LABKIT_JUPYTER_GUEST_PORT:-8888}
JUPYTER_USER=${LABKIT_JUPYTER_USER:-vagrant}
NEEDED=(python3 python3-venv python3-pyroute2 iproute2 tcpdump iputils-ping nftables dnsmasq-base ethtool kmod sudo)

log() { printf '[labkit provision] %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive

# Our box ships systemd-resolved disabled (CI needs no DNS); a learner's VM does.
if [[ $MINIMAL != 1 && ! -s /etc/resolv.conf ]] && systemctl cat systemd-resolved.service >/dev/null 2>&1; then
    log "enabling systemd-resolved for DNS"
    systemctl enable --now systemd-resolved.service
    ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf
fi

# one dpkg-query for all (each process start is slow under TCG)
mapfile -t missing < <(dpkg-query -W -f '${Package} ${Status}\n' "${NEEDED[@]}" 2>/dev/null |
    awk '$NF == "installed" {ok[$1] = 1} END {n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i]}' \
        want="${NEEDED[*]}")
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
if [[ ! -d $SRC ]]; then  # minimal: the controller copies labkit/ here over its own ssh connection
    install -d -o vagrant -g vagrant "$SRC" 2>/dev/null || mkdir -p "$SRC"
fi
[[ -d $SRC/labkit || $MINIMAL == 1 ]] || log "warning: $SRC/labkit does not exist: is the repository synced?"
site=$(python3 -c 'import site; print(site.getsitepackages()[0])')
mkdir -p "$site"
printf '%s\n' "$SRC" >"$site/labkit-src.pth"
log "python3 imports labkit from $SRC"

if [[ $MINIMAL == 1 ]]; then
    log "minimal provisioning done (no JupyterLab)"
    exit 0
fi

# --- the learner's JupyterLab
if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    python3 -m venv --system-site-packages "$VENV"
fi
pip=("$VENV/bin/pip" install -q --disable-pip-version-check)
if compgen -G "/opt/labkit/wheelhouse/*.whl" >/dev/null; then
    log "pip installs from /opt/labkit/wheelhouse only"
    pip+=(--no-index --find-links /opt/labkit/wheelhouse)
fi
log "pip install labkit (from $SRC) and JupyterLab"
if [[ -f $SRC/pyproject.toml ]]; then
    "${pip[@]}" -e "$SRC" || "${pip[@]}" "$SRC"
fi
"${pip[@]}" jupyterlab ipywidgets

if [[ $JUPYTER_USER == root ]] || ! id -u "$JUPYTER_USER" >/dev/null 2>&1 || [[ $(id -u "$JUPYTER_USER") == 0 ]]; then
    log "error: JupyterLab must run as an existing user that is not root (LABKIT_JUPYTER_USER=$JUPYTER_USER)"
    exit 1
fi
if ! sudo -n -u "$JUPYTER_USER" sudo -n true 2>/dev/null; then
    log "warning: $JUPYTER_USER has no password-less sudo: the labs will try the rootless mode"
fi
install -d -m 700 /etc/labkit
if [[ ! -s /etc/labkit/jupyter.env ]]; then
    umask 077
    printf 'JUPYTER_TOKEN=%s\n' "$(python3 -c 'import secrets; print(secrets.token_hex(24))')" >/etc/labkit/jupyter.env
fi
root_dir=$SRC/notebooks
[[ -d $root_dir ]] || root_dir=$SRC
group=$(id -gn "$JUPYTER_USER")
home=$(getent passwd "$JUPYTER_USER" | cut -d: -f6)
cat >/etc/systemd/system/labkit-jupyter.service <<EOF
[Unit]
Description=JupyterLab for labkit, as $JUPYTER_USER on 127.0.0.1:$PORT (the labs' agent gets root through sudo)
After=network.target

[Service]
User=$JUPYTER_USER
Group=$group
Environment=HOME=$home
EnvironmentFile=/etc/labkit/jupyter.env
WorkingDirectory=$root_dir
ExecStart=$VENV/bin/jupyter lab --ip=127.0.0.1 --port=$PORT --no-browser --ServerApp.root_dir=$root_dir
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
systemctl daemon-reload
systemctl enable labkit-jupyter.service
systemctl restart labkit-jupyter.service
log "JupyterLab service started as $JUPYTER_USER on 127.0.0.1:$PORT (the URL is printed at the end of vagrant up)"
