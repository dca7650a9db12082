#!/usr/bin/env bash
# Install labkit for every user of a shared Debian 12 machine (run as root, from a checkout):
#   /opt/labkit/venv            a venv made from /usr/bin/python3 (an interpreter every user can run; a .venv
#                               made from root's own python under /root cannot be run by anyone else), with
#                               labkit installed from this checkout (not editable), its dependencies, JupyterLab
#   /opt/labkit/notebooks       the pristine lab notebooks, read-only; `labkit lab` gives each user a working
#                               copy in ~/labkit (their saves stay theirs)
#   /usr/local/bin/labkit       the command, for everyone (`labkit lab`, `labkit doctor`, ...)
#   /usr/local/share/jupyter/kernels/labkit   a system kernel spec "labkit" for any JupyterLab on the machine
#   scripts/install-system.sh --hub   also JupyterHub and its proxy (configurable-http-proxy, npm) in /opt/labkit
# A non-root user's labs run rootless (a user namespace of their own); no sudo is needed or given.
# Idempotent: with the same checkout a second run only checks (a few seconds). Readable and executable by all.
# Variables: LABKIT_SYSTEM_PREFIX (default /opt/labkit), LABKIT_SYSTEM_BIN (default /usr/local/bin),
#            LABKIT_SYSTEM_SHARE (default /usr/local/share).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022
PREFIX=${LABKIT_SYSTEM_PREFIX:-/opt/labkit}
BIN=${LABKIT_SYSTEM_BIN:-/usr/local/bin}
SHARE=${LABKIT_SYSTEM_SHARE:-/usr/local/share}
HUB=0
[ "${1:-}" = "--hub" ] && HUB=1
[ "$(id -u)" = 0 ] || { echo "install-system.sh: run as root (it writes $PREFIX and $BIN)" >&2; exit 1; }

# what the labs run on the machine (scripts/packages.sh's BASE), nodejs for the hub's proxy
. scripts/packages.sh
packages=("${BASE[@]}")
if [ $HUB = 1 ]; then
  packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)  # Debian's nodejs has no npm (NodeSource's has, and conflicts with it)
fi
apt_ensure "${packages[@]}"
if [ $HUB = 1 ] && ! command -v npm >/dev/null; then
  echo "install-system.sh --hub: npm is still missing after apt (configurable-http-proxy comes from npm)" >&2; exit 1
fi

mkdir -p "$PREFIX"
exec 9>"$PREFIX/.install.lock"  # two installs at once wait for each other
flock 9

PY=/usr/bin/python3
VENV=$PREFIX/venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0)' 2>/dev/null; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
pipq() { "$VENV/bin/pip" install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "is ignored" || true; }; }

# the installed copy is keyed by the content of what goes into it
stamp=$( { find labkit -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum;
          sha256sum pyproject.toml notebooks/*.ipynb notebooks/README.md notebooks/zh/*.ipynb notebooks/zh/README.md \
            notebooks/checkpoints/*/*.json; } | sha256sum | cut -c1-16)
if [ "$(cat "$PREFIX/.labkit-stamp" 2>/dev/null)" != "$stamp" ]; then
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  # a clean copy, so that building the wheel leaves nothing in the checkout
  tar -c --exclude=__pycache__ --exclude='*.pyc' labkit pyproject.toml README.md | tar -x -C "$src"
  pipq "$src" ipykernel nbclient nbformat
  pipq --force-reinstall --no-deps "$src"          # the same version number, new content
  "$VENV/bin/python" -c "import labkit, pyroute2, scapy, graphviz, jupyterlab, ipywidgets, anywidget, ipykernel, nbclient"

  # the notebooks, replaced as a whole (users never write here: they work on copies)
  rm -rf "$VENV/share/labkit/notebooks.new"
  mkdir -p "$VENV/share/labkit/notebooks.new"
  cp notebooks/*.ipynb notebooks/README.md "$VENV/share/labkit/notebooks.new/"
  # the Chinese learner's edition beside it (never notebooks/zh/solutions/: the answers)
  mkdir -p "$VENV/share/labkit/notebooks.new/zh"
  cp notebooks/zh/*.ipynb notebooks/zh/README.md "$VENV/share/labkit/notebooks.new/zh/"
  cp -r notebooks/checkpoints "$VENV/share/labkit/notebooks.new/"  # restore("04-bridge", "step-5") reads them
  rm -rf "$VENV/share/labkit/notebooks"
  mv "$VENV/share/labkit/notebooks.new" "$VENV/share/labkit/notebooks"
  ln -sfn "$VENV/share/labkit/notebooks" "$PREFIX/notebooks"

  # JupyterLab saves the widgets' state with the notebook (as scripts/install.sh sets it for .venv)
  mkdir -p "$VENV/share/jupyter/lab/settings"
  echo '{"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": true}}' > "$VENV/share/jupyter/lab/settings/overrides.json"
  echo "$stamp" > "$PREFIX/.labkit-stamp"
fi

# JupyterHub (the hub and each user's jupyterhub-singleuser) and its proxy, an npm package, kept in $PREFIX/node
if [ $HUB = 1 ]; then
  "$VENV/bin/python" -c "import jupyterhub" 2>/dev/null || pipq "jupyterhub>=5,<6"
  if [ ! -x "$PREFIX/node/node_modules/.bin/configurable-http-proxy" ]; then
    npm install --silent --no-fund --no-audit --prefix "$PREFIX/node" configurable-http-proxy@4 >/dev/null
  fi
  ln -sfn "$PREFIX/node/node_modules/.bin/configurable-http-proxy" "$VENV/bin/configurable-http-proxy"
fi

# the command and the kernel spec (rewritten each time: cheap, and repairs a removed link)
mkdir -p "$BIN"
ln -sfn "$VENV/bin/labkit" "$BIN/labkit"
"$VENV/bin/python" -m ipykernel install --prefix "${SHARE%/share}" --name labkit --display-name "Python 3 (labkit)" >/dev/null
chmod -R a+rX "$PREFIX" "$SHARE/jupyter/kernels/labkit"
echo "labkit: installed for all users in $PREFIX ($("$VENV/bin/python" --version), labkit from $(pwd)); command $BIN/labkit, kernel spec $SHARE/jupyter/kernels/labkit"
