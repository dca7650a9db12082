#!/usr/bin/env bash
# Install everything labkit needs on Debian 12 (run as root): apt packages, then a
# virtual environment at .venv/ with labkit and its Python dependencies.
#   scripts/install.sh          the lab (JupyterLab, graphviz, tcpdump, iproute2, ...)
#   scripts/install.sh --test   also what the test tiers need (chromium, vagrant + libvirt + qemu)
# Each part is skipped when it is already in place, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/packages.sh
packages=("${BASE[@]}")
[ "${1:-}" = "--test" ] && packages+=("${TEST[@]}")
apt_ensure "${packages[@]}"

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
