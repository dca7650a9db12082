"""Fixtures of the browser tier: a private JupyterLab and a headless Chromium.

JupyterLab runs on 127.0.0.1, on a free port, with a random token, on COPIES of the
notebooks in a temporary directory (autosave writes outputs back). Its user
settings live in a temporary directory too: the notebook's ``windowingMode`` is
``none`` (every cell stays in the DOM) and the news prompt is off (it would cover
the screenshots). Chromium is Debian's, driven by Playwright through
``executable_path``, with a fresh profile and the flags this machine needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def notebooks() -> list[Path]:
    """The instructor's edition (solutions filled in), so "Run all" runs every cell; the learner's edition
    stops at its first exercise with "not done yet" by design (tests/notebooks/test_learner_edition.py)."""
    return sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = ROOT / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def serve(base: Path, sources: list[Path], **env_extra: str) -> Iterator[dict[str, Any]]:
    """A JupyterLab server on copies of ``sources`` in ``base/notebooks``: {'url', 'token', 'root', 'log'};
    ``env_extra`` goes into its environment, and so into its kernels' (LABKIT_LANG=zh)."""
    root = base / "notebooks"
    root.mkdir()
    for nb in sources:
        shutil.copy(nb, root / nb.name)
    settings = base / "settings"
    for name, value in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"), PYTHONPATH=str(ROOT), **env_extra)
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
            "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--allow-root",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}"]
    log = open(base / "jupyterlab.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(argv, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (base / "jupyterlab.log").read_text()[-3000:])
            time.sleep(0.3)
        yield {"url": url, "token": token, "root": root, "log": base / "jupyterlab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A JupyterLab server on copies of notebooks/solutions/*.ipynb: {'url', 'token', 'root', 'log'}."""
    with serve(tmp_path_factory.mktemp("jlab"), notebooks()) as lab:
        yield lab


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A persistent headless Chromium context with a fresh profile."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set LABKIT_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download needed)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000}, accept_downloads=True, downloads_path=str(downloads))
        try:
            yield context
        finally:
            context.close()
