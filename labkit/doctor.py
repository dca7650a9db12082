"""``labkit doctor``: what this machine can do for a lab, and how to fix what it cannot.

The checks are plain data (:class:`Finding`); :func:`run_checks` gathers them by
asking the machine (binaries, privileges) and a throwaway lab (kernel features).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass

from .kinds import KINDS as ALL_KINDS

TOOLS = {
    "ip": "apt-get install iproute2", "tcpdump": "apt-get install tcpdump", "dot": "apt-get install graphviz",
    "nft": "apt-get install nftables", "dnsmasq": "apt-get install dnsmasq-base", "ping": "apt-get install iputils-ping",
    "ethtool": "apt-get install ethtool", "unshare": "apt-get install util-linux",
}
OPTIONAL_TOOLS = {"vagrant": "apt-get install vagrant vagrant-libvirt (only for the VM target)",
                  "chromium": "apt-get install chromium (only for the browser tests)"}
#: every kind made with `ip link add` (labkit/kinds/); tun and tap are checked through /dev/net/tun
KINDS = tuple(name for name, kind in ALL_KINDS.items() if kind.created_by == "link_add")


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        mark = "ok " if self.ok else ("MISSING" if self.required else "absent ")
        return f"[{mark}] {self.what}" + ("" if self.ok or not self.fix else f"\n          fix: {self.fix}")


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def run_checks(probe_kernel: bool = True) -> list[Finding]:
    from .targets.local import agent_path, choose_mode
    from .targets.tunfile import tun_problem

    found = [Finding(True, f"kernel {platform.release()}, python {platform.python_version()}")]
    try:
        mode = choose_mode()
        found.append(Finding(True, f"privileges: the agent runs as {mode}" + (" (euid 0)" if mode == "root" else "")))
    except Exception as exc:
        found.append(Finding(False, f"privileges: {exc}", "run as root, allow sudo -n, or enable user namespaces"))
        mode = ""
    tools_path = agent_path(os.environ.get("PATH"))  # where the agent looks (sbin included, as for root)
    for tool, fix in TOOLS.items():
        path = shutil.which(tool, path=tools_path)
        found.append(Finding(bool(path), f"{tool}: {path or 'not found'}" + (f" ({_version([tool, '-V'])})" if tool == "ip" and path else ""), fix))
    for tool, fix in OPTIONAL_TOOLS.items():
        path = shutil.which(tool)
        found.append(Finding(bool(path), f"{tool}: {path or 'not found'}", fix, required=False))
    tun = tun_problem()  # opened for real: its mode and a container's device rules count, not only its existence
    found.append(Finding(tun is None, "/dev/net/tun (tun/tap)" + (f": {tun.what}" if tun else ""), tun.hint if tun else ""))
    if probe_kernel and mode:
        from .lab import Lab

        with Lab(uplink=False) as lab:
            for kind, ok in lab.supports(*KINDS).items():
                found.append(Finding(ok, f"kernel can make {kind} devices", "run this lab on the VM target: Lab.vagrant()",
                                     required=kind in ("veth", "bridge")))
    return found
