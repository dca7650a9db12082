"""``labkit doctor``: what this machine can do for a lab, and how to fix what it cannot.

The checks are plain data (:class:`Finding`). :func:`gather` asks the machine (who we are,
sudo, user namespaces and the sysctls that govern them, /dev/net/tun, binaries) and a
throwaway lab (which device kinds the kernel can make); :mod:`labkit.doctor_paths` turns
those facts into findings, each missing piece with the command that fixes it.
"""

from __future__ import annotations

import os
import platform
import pwd
import re
import shutil
import stat
import subprocess
from pathlib import Path

from .doctor_paths import Facts, Finding, choose, lab_kinds, module_findings, skipped_labs, target_findings, tun_findings, userns_findings
from .kinds import KINDS as ALL_KINDS
from .places import notebook_texts
from .settings import settings

__all__ = ["Facts", "Finding", "gather", "run_checks", "sharkd_finding"]

TOOLS = {
    "ip": "apt-get install iproute2", "tcpdump": "apt-get install tcpdump", "neato": "apt-get install graphviz",
    "nft": "apt-get install nftables", "dnsmasq": "apt-get install dnsmasq-base", "ping": "apt-get install iputils-ping",
    "ethtool": "apt-get install ethtool", "unshare": "apt-get install util-linux",
}
OPTIONAL_TOOLS = {"vagrant": "apt-get install vagrant vagrant-libvirt (only for the VM target)",
                  "chromium": "apt-get install chromium (only for the browser tests)"}
SHARKD_FIX = "apt-get install wireshark-common (Wireshark's dissection tree and Follow TCP/UDP stream in the capture panes)"
#: every kind made with `ip link add` (labkit/kinds/); tun and tap are checked through /dev/net/tun
KINDS = tuple(name for name, kind in ALL_KINDS.items() if kind.created_by == "link_add")


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def sharkd_finding(path: str | None, version: str = "") -> Finding:
    """Whether Wireshark's sharkd is here: with it, a packet's row opens into Wireshark's tree and can be
    followed; without it, into scapy's layers. It runs where the notebook runs, not on the target."""
    if not path:
        return Finding(False, "sharkd: not found, so packets show scapy's layers only", SHARKD_FIX, required=False)
    found = re.search(r"Wireshark\)? (\d+\.\d+\.\d+)", version)
    words = f" (Wireshark {found.group(1)})" if found else ""
    return Finding(True, f"sharkd: {path}{words}: Wireshark's tree and Follow stream in the capture panes")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _succeeds(argv: list[str]) -> tuple[bool, str]:
    if shutil.which(argv[0]) is None:
        return False, f"{argv[0]} is not installed"
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return out.returncode == 0, (out.stderr or out.stdout).strip()[-200:]


def _tun() -> tuple[bool, bool, str]:
    """Whether /dev/net/tun exists, whether this user can open it read-write, and its mode."""
    try:
        mode = stat.filemode(os.stat("/dev/net/tun").st_mode)
    except OSError:
        return False, False, ""
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError:
        return True, False, mode
    return True, True, mode


def _module_files(release: str) -> frozenset[str] | None:
    """The modules this kernel could load (from modules.dep and modules.builtin), or None when it has no module tree."""
    names: set[str] = set()
    for listing in ("modules.dep", "modules.builtin"):
        text = _read(f"/lib/modules/{release}/{listing}")
        if text is None:
            continue
        for line in text.splitlines():
            path = line.split(":", 1)[0]
            names.add(Path(path).name.split(".ko")[0].replace("-", "_"))
    return frozenset(names) if names else None


def _probe_kinds(mode: str | None) -> dict[str, bool] | None:
    if mode in (None, "vm"):
        return None
    from .lab import Lab

    with Lab(uplink=False) as lab:
        return lab.supports(*KINDS)


def gather(probe_kernel: bool = True) -> Facts:
    """The facts of this machine that decide which path labs take and what they can do."""
    config = settings()
    euid = os.geteuid()
    user = pwd.getpwuid(euid).pw_name
    sudo_ok = euid != 0 and _succeeds(["sudo", "-n", "true"])[0]
    userns_ok, userns_error = _succeeds(["unshare", "--user", "--map-root-user", "--net", "true"])
    max_userns = _read("/proc/sys/user/max_user_namespaces")
    tun_exists, tun_usable, tun_mode = _tun()
    sources = {name[:2]: text for name, text in notebook_texts().items()}
    facts = Facts(
        euid=euid, user=user, target=config.target, requested_mode=config.mode, sudo_ok=sudo_ok,
        unshare=shutil.which("unshare") is not None, userns_ok=userns_ok, userns_error=userns_error,
        unprivileged_userns_clone=_read("/proc/sys/kernel/unprivileged_userns_clone"),
        max_user_namespaces=int(max_userns) if max_userns and max_userns.isdigit() else None,
        apparmor_restrict=_read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        tun_exists=tun_exists, tun_usable=tun_usable, tun_mode=tun_mode,
        in_container=any(os.path.exists(p) for p in ("/.dockerenv", "/run/.containerenv")) or "KUBERNETES_SERVICE_HOST" in os.environ,
        vagrant=shutil.which("vagrant") is not None,
        modules={name: ALL_KINDS[name].module for name in KINDS}, module_files=_module_files(platform.release()),
        lab_kinds=lab_kinds(sources, KINDS),
    )
    if probe_kernel:
        from dataclasses import replace

        facts = replace(facts, kinds=_probe_kinds(choose(facts)[0]))
    return facts


def run_checks(probe_kernel: bool = True) -> list[Finding]:
    facts = gather(probe_kernel)
    found = [Finding(True, f"kernel {platform.release()}, python {platform.python_version()}, user {facts.user}")]
    found += target_findings(facts)
    found += userns_findings(facts)
    from .targets.local import agent_path

    tools_path = agent_path(os.environ.get("PATH"))  # where the agent looks (sbin included, as for root)
    for tool, fix in TOOLS.items():
        path = shutil.which(tool, path=tools_path)
        found.append(Finding(bool(path), f"{tool}: {path or 'not found'}" + (f" ({_version([tool, '-V'])})" if tool == "ip" and path else ""), fix))
    for tool, fix in OPTIONAL_TOOLS.items():
        path = shutil.which(tool)
        found.append(Finding(bool(path), f"{tool}: {path or 'not found'}", fix, required=False))
    sharkd = shutil.which("sharkd")
    found.append(sharkd_finding(sharkd, _version([sharkd, "-v"]) if sharkd else ""))
    found += tun_findings(facts)
    found += module_findings(facts)
    found.append(skipped_labs(facts))
    return found
