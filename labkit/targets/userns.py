"""Why this process cannot make a user namespace, in words a learner can act on.

labkit's rootless mode needs one thing from the host: an unprivileged ``unshare(CLONE_NEWUSER)``.
Hosts refuse it in a few distinct ways, each with its own fix:

- a **seccomp filter** (Docker's default profile, and so public Binder and most containers without
  CAP_SYS_ADMIN) answers ``unshare`` with EPERM before the kernel looks at anything else;
- ``user.max_user_namespaces`` is 0 (or used up: ENOSPC);
- Debian's older ``kernel.unprivileged_userns_clone=0``, or Ubuntu's AppArmor restriction
  ``kernel.apparmor_restrict_unprivileged_userns=1``.

:func:`explain` turns what was seen into one sentence (pure); :func:`why_not` runs the probe.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

SYSCTLS = {"max_user_namespaces": "/proc/sys/user/max_user_namespaces",
           "unprivileged_userns_clone": "/proc/sys/kernel/unprivileged_userns_clone",
           "apparmor_restrict_unprivileged_userns": "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"}


def explain(stderr: str, facts: Mapping[str, str]) -> str:
    """The reason, from unshare's complaint and the host's settings (``facts``: sysctl name → value,
    ``seccomp`` → the Seccomp field of /proc/self/status, 2 = a filter is on)."""
    if facts.get("max_user_namespaces") == "0":
        return "this host allows no user namespaces at all (sysctl user.max_user_namespaces = 0)"
    if "No space left" in stderr:
        return "this process may make no more user namespaces (user.max_user_namespaces is used up here)"
    if facts.get("unprivileged_userns_clone") == "0":
        return "this host forbids user namespaces to ordinary users (sysctl kernel.unprivileged_userns_clone = 0)"
    if facts.get("apparmor_restrict_unprivileged_userns") == "1":
        return "AppArmor forbids user namespaces to ordinary users here (kernel.apparmor_restrict_unprivileged_userns = 1)"
    if "not permitted" in stderr and facts.get("seccomp") == "2":
        return ("a seccomp filter refuses the unshare system call (the default of Docker and of public Binder, "
                "for a container without CAP_SYS_ADMIN)")
    return f"unshare --user failed: {stderr.strip() or 'no reason given'}"


def _facts() -> dict[str, str]:
    facts = {}
    for name, path in SYSCTLS.items():
        try:
            facts[name] = Path(path).read_text().strip()
        except OSError:
            continue
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Seccomp:"):
            facts["seccomp"] = line.split()[1]
    return facts


def why_not() -> str:
    """'' when an unprivileged user namespace can be made here; otherwise why not."""
    if shutil.which("unshare") is None:
        return "the unshare command is missing (apt-get install util-linux)"
    try:
        probe = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], capture_output=True, text=True,
                               timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare --user could not be run: {error}"
    return "" if probe.returncode == 0 else explain(probe.stderr, _facts())
