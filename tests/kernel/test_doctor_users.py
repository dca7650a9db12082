"""``labkit doctor`` run for real, as root and as a throwaway non-root user (created and deleted here).

The user runs the system's ``/usr/bin/python3`` (root's home, and so the project's venv, may be
private) with ``--quick`` (no kernel probe, so nothing beyond the standard library is needed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def readable() -> Iterator[Path]:
    """A copy of what doctor reads (the package, the notebook sources), readable by every user: the
    checkout itself may sit in a folder only root can enter (a CI's mktemp -d is mode 0700)."""
    copy = Path(tempfile.mkdtemp(prefix="labkit-doc-src-"))
    try:
        copy.chmod(0o755)
        shutil.copytree(ROOT / "labkit", copy / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "notebooks" / "src", copy / "notebooks" / "src")
        shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
        for path in (copy, *copy.rglob("*")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield copy
    finally:
        shutil.rmtree(copy)


def doctor(*, user: str | None = None, path: str | None = None, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = ["env", f"PYTHONPATH={root}", "HOME=/tmp", *([f"PATH={path}"] if path else [])]
    argv = [*env, PYTHON if user else sys.executable, "-m", "labkit.cli", "doctor", "--quick"]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, cwd="/tmp")


def target_line(out: str) -> str:
    return next(line for line in out.splitlines() if "target:" in line)


def test_as_root_labs_run_as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("this machine's tests do not run as root")
    out = doctor()
    assert out.returncode == 0, out.stdout + out.stderr
    assert target_line(out.stdout) == "[ok ] target: the local sandbox, mode root, because you are root (euid 0)"
    assert "learners without root depend on the settings above" in out.stdout


@pytest.fixture
def learner(tmp_path: Path) -> Iterator[str]:
    """A throwaway user without a home, removed afterwards."""
    if os.geteuid() != 0 or shutil.which("useradd") is None or not os.access(PYTHON, os.X_OK):
        pytest.skip("making a throwaway user needs root, useradd and /usr/bin/python3")
    name = f"labkit-doc-{os.getpid() % 100000}"
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


def test_as_a_learner_the_path_is_the_one_the_kernel_allows(learner: str, readable: Path) -> None:
    allowed = subprocess.run(["runuser", "-u", learner, "--", "unshare", "--user", "--map-root-user", "--net", "true"],
                             capture_output=True, timeout=30, check=False).returncode == 0
    out = doctor(user=learner, root=readable)
    line = target_line(out.stdout)
    if allowed:
        assert out.returncode == 0 and "mode rootless" in line and f"you ({learner}) are not root" in line, out.stdout
    else:
        assert out.returncode == 1 and "none works" in line, out.stdout
    assert f"can be opened by {learner}" in out.stdout or "/dev/net/tun" in out.stdout


def test_as_a_learner_without_unshare_no_path_works_and_each_fix_is_given(learner: str, readable: Path) -> None:
    tools = Path(tempfile.mkdtemp(prefix="labkit-doc-bin-"))  # every tool doctor looks for, but unshare and sudo
    try:
        tools.chmod(0o755)  # the learner must reach it (pytest's tmp_path is root's alone)
        for tool in ("ip", "tcpdump", "dot", "nft", "dnsmasq", "ping", "ethtool", "sh"):
            if shutil.which(tool):
                (tools / tool).symlink_to(shutil.which(tool) or "")
        out = doctor(user=learner, path=str(tools), root=readable)
    finally:
        shutil.rmtree(tools)
    assert out.returncode == 1, out.stdout
    assert f"ip: {tools}/ip" in out.stdout  # the learner did see the tools that are there
    assert "[MISSING] target: none works" in out.stdout
    assert "fix: sudo apt-get install util-linux   # provides unshare" in out.stdout
    assert f"echo '{learner} ALL=(root) NOPASSWD: ALL' | sudo tee /etc/sudoers.d/labkit-{learner}" in out.stdout
    assert "or: use the VM: vagrant up, then LABKIT_TARGET=vagrant" in out.stdout
