"""A shared machine for the tests: the system install, and throwaway learners (non-root users, no sudo).

A learner is a real local user made with ``useradd`` (home mode 0700, no groups but
its own) and run with a login's environment: ``PATH`` without sbin, ``HOME`` its own.
Removing one stops every process of its uid, by PID, then ``userdel -r``; nothing
else of the machine is touched. Only root can do this: the tiers that use it skip
with that reason otherwise.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/opt/labkit/venv/bin/python"
#: a Debian login's PATH (/etc/login.defs ENV_PATH): no sbin
LOGIN_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"


@dataclass(frozen=True)
class Learner:
    name: str
    uid: int
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "SHELL": "/bin/sh",
                "PATH": LOGIN_PATH, "LANG": "C.UTF-8", **extra}

    def argv(self, *argv: str, **extra: str) -> list[str]:
        """``argv`` run as this learner with a login's environment (and nothing of root's)."""
        return ["runuser", "-u", self.name, "--", "env", "-i", *(f"{k}={v}" for k, v in self.env(**extra).items()), *argv]

    def run(self, *argv: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*argv, **extra), cwd=self.home, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def pids(self) -> list[int]:
        """Every process of this learner's uid (from /proc, by real uid)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == self.uid and _real_uid(entry) == self.uid:
                        found.append(int(entry.name))
                except (FileNotFoundError, ProcessLookupError, PermissionError):
                    continue
        return found


def _real_uid(proc: Path) -> int:
    for line in (proc / "status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


def install_system(hub: bool = False) -> None:
    """``scripts/install-system.sh`` (idempotent: seconds when /opt/labkit already holds this checkout)."""
    argv = [str(ROOT / "scripts" / "install-system.sh"), *(["--hub"] if hub else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"install-system.sh failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def add_learner(prefix: str = "lkt") -> Learner:
    name = f"{prefix}{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", "-K", "HOME_MODE=0700", "--user-group", name],
                   check=True, capture_output=True, timeout=60)
    entry = pwd.getpwnam(name)
    return Learner(name, entry.pw_uid, Path(entry.pw_dir))


def remove_learner(learner: Learner) -> list[int]:
    """Stop the learner's processes by PID (TERM, then KILL after 5 s), then delete the user and home; the PIDs stopped."""
    stopped = learner.pids()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in learner.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while learner.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not learner.pids():
            break
    subprocess.run(["userdel", "--remove", learner.name], capture_output=True, timeout=60, check=False)
    return stopped


@contextmanager
def learners(count: int, prefix: str = "lkt") -> Iterator[list[Learner]]:
    made: list[Learner] = []
    try:
        for _ in range(count):
            made.append(add_learner(prefix))
        yield made
    finally:
        for learner in made:
            remove_learner(learner)
        left = [learner.name for learner in made if learner.pids()]
        assert not left, f"processes of {left} outlived their removal"
