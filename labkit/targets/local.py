"""The local sandbox: the lab's namespaces on this machine, never the host's own.

The agent needs to change network namespaces, which takes CAP_SYS_ADMIN and
CAP_NET_ADMIN. In order of preference it runs: as root directly; through
``sudo -n`` (no password prompt: it fails instead); or rootless, inside a new user
namespace where we are root (``unshare --user --map-root-user --net --mount``)
with a private tmpfs on /run/netns.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys

from ..errors import NoPrivileges
from ..i18n import tr
from ..names import check_lab_id
from ..settings import settings
from .base import AgentTarget
from .client import AgentConnection

MODES = ("root", "sudo", "rootless")


def new_lab_id() -> str:
    return secrets.token_hex(3)


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _sudo_works() -> bool:
    if shutil.which("sudo") is None:
        return False
    try:
        return subprocess.run(["sudo", "-n", "true"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _userns_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], capture_output=True,
                               timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def choose_mode(requested: str | None = None) -> str:
    """The way to run the agent: the requested one, or the best that works here."""
    requested = requested or settings().mode
    if requested:
        if requested not in MODES:
            raise NoPrivileges(tr("unknown privilege mode {mode!r}", mode=requested), hint=tr("use one of {modes}", modes=", ".join(MODES)))
        return requested
    if os.geteuid() == 0:
        return "root"
    if _sudo_works():
        return "sudo"
    if _userns_works():
        return "rootless"
    raise NoPrivileges(tr("labkit cannot get the rights to make network namespaces here"),
                       hint=tr("run as root, allow password-less `sudo` for python, or enable unprivileged user namespaces "
                               "(sysctl kernel.unprivileged_userns_clone=1); `labkit doctor` checks all three"))


#: where Debian keeps the administrator's tools (nft, dnsmasq, ethtool, sysctl): on root's PATH, not a user's
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def agent_path(path: str | None) -> str:
    """The agent's PATH: the caller's, then the sbin folders it lacks.

    The agent is root in its namespaces (in the rootless mode, root of a user namespace
    of its own), so it looks for tools where root does; a learner's login PATH on a
    shared machine (``/usr/local/bin:/usr/bin:/bin``) has no sbin."""
    parts = [part for part in (path or "/usr/local/bin:/usr/bin:/bin").split(os.pathsep) if part]
    return os.pathsep.join(parts + [folder for folder in SBIN if folder not in parts])


def agent_argv(lab_id: str, mode: str, python: str | None = None) -> list[str]:
    """The command line that starts the agent in ``mode``."""
    python = python or sys.executable
    agent = [python, "-m", "labkit.targets.agent", "--lab-id", lab_id]
    if mode == "root":
        return agent
    if mode == "sudo":
        return ["sudo", "-n", "--preserve-env=PYTHONPATH", *agent]
    script = ('if [ -d /run/netns ]; then mount -t tmpfs tmpfs /run/netns; '
              'else mount -t tmpfs tmpfs /run && mkdir -p /run/netns; fi && exec "$@"')
    return ["unshare", "--user", "--map-root-user", "--net", "--mount", "--propagation", "private",
            "sh", "-c", script, "labkit-agent", *agent]


class LocalTarget(AgentTarget):
    """A lab in network namespaces of this machine, driven through a local agent."""

    name = "local"

    def __init__(self, lab_id: str | None = None, mode: str | None = None) -> None:
        self.lab_id = check_lab_id(lab_id or new_lab_id())
        self.mode = choose_mode(mode)
        env = dict(os.environ)
        env["PATH"] = agent_path(env.get("PATH"))
        env["PYTHONPATH"] = _package_root() + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.connect(AgentConnection(agent_argv(self.lab_id, self.mode), env=env, what=tr("labkit agent")))
