"""What ``labkit doctor`` concludes from the facts of a machine: pure decisions, each with its fix.

A classroom reaches the kernel by one of four paths: as **root**; through **sudo -n** (a
password-less sudo); **rootless**, inside a user namespace the learner owns (``unshare
--user --map-root-user --net``), which needs the kernel to allow unprivileged user
namespaces; or a **VM** (``LABKIT_TARGET=vagrant``), whose kernel is the VM's own. The
tun/tap labs also need ``/dev/net/tun`` to be usable by the learner, and some labs need
kernel modules (a container cannot load them; the VM has them all).

:class:`Facts` is what the machine says (gathered by :mod:`labkit.doctor`); every function
here turns facts into :class:`Finding` lines, each missing piece with the exact command
that fixes it. No I/O: the unit tier checks each decision with made-up facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: the labs that open tun/tap devices (lab.tun_open or lab.tuntap)
TUN_LABS = ("01", "02", "07")
PERSIST = "/etc/sysctl.d/90-labkit-userns.conf"


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""
    required: bool = True

    def line(self) -> str:
        mark = "ok " if self.ok else ("MISSING" if self.required else "absent ")
        return f"[{mark}] {self.what}" + ("" if self.ok or not self.fix else f"\n          fix: {self.fix}")


@dataclass(frozen=True)
class Facts:
    """What doctor read from this machine (None: not there to read, or not probed)."""

    euid: int = 1000
    user: str = "learner"
    target: str = "local"                      # LABKIT_TARGET
    requested_mode: str | None = None          # LABKIT_MODE
    sudo_ok: bool = False                      # `sudo -n true` worked
    unshare: bool = True                       # the unshare binary is there
    userns_ok: bool = False                    # `unshare --user --map-root-user --net true` worked
    userns_error: str = ""
    unprivileged_userns_clone: str | None = None   # /proc/sys/kernel/unprivileged_userns_clone (Debian, older Ubuntu)
    max_user_namespaces: int | None = None         # /proc/sys/user/max_user_namespaces
    apparmor_restrict: str | None = None           # /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10+)
    tun_exists: bool = True
    tun_usable: bool = True                    # this user could open /dev/net/tun read-write
    tun_mode: str = "crw-rw-rw-"
    in_container: bool = False
    vagrant: bool = False
    kinds: dict[str, bool] | None = None       # device kind → the kernel made one (None: not probed)
    modules: dict[str, str] = field(default_factory=dict)          # kind → its kernel module
    module_files: frozenset[str] | None = None  # modules this kernel could load (None: unknown)
    lab_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lab "11" → the kinds it makes


def choose(facts: Facts) -> tuple[str | None, str]:
    """The path labs will take here, and why (None: no path works), in the order labkit tries them."""
    if facts.target == "vagrant":
        return "vm", "LABKIT_TARGET=vagrant asks for the VM"
    if facts.requested_mode:
        return facts.requested_mode, f"LABKIT_MODE={facts.requested_mode} asks for it"
    if facts.euid == 0:
        return "root", "you are root (euid 0)"
    if facts.sudo_ok:
        return "sudo", f"you ({facts.user}) are not root, and `sudo -n true` works for you"
    if facts.userns_ok:
        return "rootless", (f"you ({facts.user}) are not root and have no password-less sudo, and unprivileged "
                            "user namespaces work: the agent is root only inside a user namespace of yours")
    return None, (f"you ({facts.user}) are not root, have no password-less sudo (`sudo -n true` fails), "
                  "and cannot make user namespaces")


def userns_fixes(facts: Facts) -> list[str]:
    """The commands that let unprivileged users make user namespaces, for each setting that forbids it."""
    fixes = []
    if facts.unprivileged_userns_clone == "0":
        fixes.append(f"sudo sysctl -w kernel.unprivileged_userns_clone=1 && echo kernel.unprivileged_userns_clone=1 "
                     f"| sudo tee -a {PERSIST}")
    if facts.max_user_namespaces is not None and facts.max_user_namespaces < 1:
        fixes.append(f"sudo sysctl -w user.max_user_namespaces=10000 && echo user.max_user_namespaces=10000 "
                     f"| sudo tee -a {PERSIST}")
    if facts.apparmor_restrict == "1":
        fixes.append(f"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 && echo "
                     f"kernel.apparmor_restrict_unprivileged_userns=0 | sudo tee -a {PERSIST}")
    if not facts.unshare:
        fixes.append("sudo apt-get install util-linux   # provides unshare")
    if not fixes and not facts.userns_ok and facts.in_container:
        fixes.append("the container forbids unshare: run it with `--security-opt seccomp=unconfined --cap-add SYS_ADMIN` "
                     "(Docker), or give the pod user namespaces (`hostUsers: false`, see deploy/jupyterhub)")
    return fixes


def target_findings(facts: Facts) -> list[Finding]:
    path, why = choose(facts)
    if path is not None:
        where = "the VM (Vagrant)" if path == "vm" else f"the local sandbox, mode {path}"
        return [Finding(True, f"target: {where}, because {why}")]
    fixes = userns_fixes(facts) or [f"(user namespaces are refused for a reason doctor cannot see: {facts.userns_error})"]
    fixes.append(f"allow password-less sudo for {facts.user}: echo '{facts.user} ALL=(root) NOPASSWD: ALL' "
                 f"| sudo tee /etc/sudoers.d/labkit-{facts.user}")
    fixes.append("use the VM: vagrant up, then LABKIT_TARGET=vagrant"
                 + ("" if facts.vagrant else " (first: sudo apt-get install vagrant vagrant-libvirt)"))
    return [Finding(False, f"target: none works, because {why}", "\n          or: ".join(fixes))]


def lab_kinds(sources: dict[str, str], kinds: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Which device kinds each lab makes, read from its notebook source (``lab.vxlan(``, ``requires(lab, kinds=[...])``)."""
    found = {}
    for lab, text in sources.items():
        asked = {word for group in re.findall(r"kinds=\[([^\]]*)\]", text) for word in re.findall(r"[\"'](\w+)[\"']", group)}
        used = tuple(k for k in kinds if f"lab.{k}(" in text or k in asked)
        if used:
            found[lab] = used
    return found


def userns_findings(facts: Facts) -> list[Finding]:
    """User namespaces: needed when labs run rootless; shown always, since a class's learners are not root."""
    path, _why = choose(facts)
    needed = path in (None, "rootless")
    found = []
    if facts.unprivileged_userns_clone is not None:
        found.append(Finding(facts.unprivileged_userns_clone != "0",
                             f"kernel.unprivileged_userns_clone = {facts.unprivileged_userns_clone}",
                             userns_fixes(Facts(unprivileged_userns_clone="0"))[0], required=needed))
    if facts.max_user_namespaces is not None:
        found.append(Finding(facts.max_user_namespaces > 0, f"user.max_user_namespaces = {facts.max_user_namespaces}"
                             + ("" if facts.max_user_namespaces > 0 else " (no user may make one)"),
                             userns_fixes(Facts(max_user_namespaces=0))[0], required=needed))
    if facts.apparmor_restrict is not None:
        found.append(Finding(facts.apparmor_restrict != "1",
                             f"kernel.apparmor_restrict_unprivileged_userns = {facts.apparmor_restrict}"
                             + (" (AppArmor forbids unprivileged user namespaces)" if facts.apparmor_restrict == "1" else ""),
                             userns_fixes(Facts(apparmor_restrict="1"))[0], required=needed))
    probe = "`unshare --user --map-root-user --net true` " + ("works" if facts.userns_ok else "fails: " + (facts.userns_error or "?"))
    if facts.euid == 0:
        probe += " (as root; learners without root depend on the settings above)"
    fixes = userns_fixes(facts)
    found.append(Finding(facts.userns_ok, f"user namespaces (the rootless mode): {probe}",
                         "\n          or ".join(fixes) if fixes else "", required=needed))
    return found


def tun_findings(facts: Facts) -> list[Finding]:
    """/dev/net/tun: the tun/tap labs open it (as the learner in the rootless mode)."""
    labs = ", ".join(TUN_LABS)
    if not facts.tun_exists:
        fix = ("the container has no /dev/net/tun: start it with `--device /dev/net/tun` (Docker) or mount it in the pod"
               if facts.in_container else "sudo modprobe tun   # then ls -l /dev/net/tun")
        return [Finding(False, f"/dev/net/tun is missing: labs {labs} (tun/tap) will fail", fix, required=False)]
    if not facts.tun_usable:
        return [Finding(False, f"/dev/net/tun ({facts.tun_mode}) cannot be opened read-write by {facts.user}: "
                               f"labs {labs} (tun/tap) will fail", "sudo chmod 0666 /dev/net/tun   # Debian's own mode",
                        required=False)]
    return [Finding(True, f"/dev/net/tun ({facts.tun_mode}) can be opened by {facts.user} (labs {labs}: tun/tap)")]


def module_fix(facts: Facts, kind: str) -> str:
    module = facts.modules.get(kind, kind)
    if facts.in_container:
        return f"containers cannot load modules: on the host, sudo modprobe {module}; or use the VM target (LABKIT_TARGET=vagrant)"
    if facts.module_files is None:
        return ("this kernel loads no modules (no /lib/modules tree for it): run these labs on the VM target "
                "(vagrant up, then LABKIT_TARGET=vagrant)")
    if module not in facts.module_files:
        return f"this kernel has no {module} module: run these labs on the VM target (vagrant up, then LABKIT_TARGET=vagrant)"
    return f"sudo modprobe {module}   # or run these labs on the VM target (LABKIT_TARGET=vagrant)"


def module_findings(facts: Facts, required: tuple[str, ...] = ("veth", "bridge")) -> list[Finding]:
    """One line per device kind the kernel can or cannot make, naming the labs that skip for want of it."""
    if facts.kinds is None:
        return [Finding(False, "kernel modules: not probed (no privileges, or --quick)", required=False)]
    found = []
    for kind, ok in facts.kinds.items():
        labs = [lab for lab, kinds in sorted(facts.lab_kinds.items()) if kind in kinds]
        users = f" (used by lab{'s' if len(labs) > 1 else ''} {', '.join(labs)})" if labs else ""
        if ok:
            found.append(Finding(True, f"kernel can make {kind} devices{users}"))
        else:
            effect = "every lab needs it" if kind in required else (
                f"lab{'s' if len(labs) > 1 else ''} {', '.join(labs)} will skip the parts that use it" if labs else "no lab uses it")
            found.append(Finding(False, f"kernel cannot make {kind} devices (module {facts.modules.get(kind, kind)}): {effect}",
                                 module_fix(facts, kind), required=kind in required))
    return found


def skipped_labs(facts: Facts) -> Finding:
    """The summary a teacher reads first: which labs will skip parts here, and why."""
    path, _why = choose(facts)
    reasons: dict[str, list[str]] = {}
    if facts.kinds is not None:
        for lab, kinds in sorted(facts.lab_kinds.items()):
            lacking = [k for k in kinds if facts.kinds.get(k) is False]
            if lacking:
                reasons.setdefault(lab, []).append("no " + ", ".join(lacking))
    if path != "vm":
        reasons.setdefault("12", []).append("needs the VM target")
    if not (facts.tun_exists and facts.tun_usable):
        for lab in TUN_LABS:
            reasons.setdefault(lab, []).append("no usable /dev/net/tun")
    text = "; ".join(f"{lab}: {', '.join(why)}" for lab, why in sorted(reasons.items()))
    return Finding(not reasons, "labs that skip or fail parts here: " + (text or "none"),
                   "see the lines above for each fix; the VM target (LABKIT_TARGET=vagrant) has every module",
                   required=False)
