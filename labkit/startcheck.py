"""What a learner's server can run, said once when it starts: which labs will skip, and why.

A container (a JupyterHub pod, a Binder session) shares the host's kernel and cannot load
kernel modules: ``modprobe`` needs CAP_SYS_MODULE in the host's first user namespace, which no
learner's pod should have. A device kind works only if its module is built in or already
loaded on the node (a veth needs ``veth``, a VLAN needs ``8021q``); otherwise ``ip link add``
fails with "Unknown device type" however many rights the container holds.

So the server asks once, before anyone opens a notebook: which kinds each lab makes (read from
the notebook's own source: its ``lab.<kind>(...)`` steps and ``requires(kinds=[...])``), which of
those this kernel can make (a throwaway lab tries each for real), and whether the container
could load a missing module. ``python -m labkit.startcheck`` prints the answer; the single-user
image (``deploy/jupyterhub``) and Binder's ``start`` run it.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .kinds import KINDS
from .places import notebook_texts, notebooks_dir

#: the bit of CAP_SYS_MODULE in /proc/self/status's CapEff (linux/capability.h)
CAP_SYS_MODULE = 16


@dataclass(frozen=True)
class LabNeeds:
    """What one notebook needs from the kernel: device kinds, and whether only the VM will do."""

    lab: str
    kinds: frozenset[str]
    vm_only: bool = False


def _kind_of_call(call: ast.Call) -> set[str]:
    """The kinds one ``lab.<method>(...)`` or ``requires(...)`` call needs."""
    func = call.func
    if isinstance(func, ast.Name) and func.id == "requires":
        return {elt.value for kw in call.keywords if kw.arg == "kinds" and isinstance(kw.value, (ast.List, ast.Tuple))
                for elt in kw.value.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)}
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "lab"):
        return set()
    name = func.attr
    if name in KINDS:
        return {name}
    if name == "tun_open":
        return {"tun"}
    words = [arg.value for arg in [*call.args, *(kw.value for kw in call.keywords)]
             if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if name == "tuntap":
        return {"tap"} if "tap" in words else {"tun"}
    if name == "device":
        return {word for word in words if word in KINDS}
    return set()


def needs_of(lab: str, source: str) -> LabNeeds:
    """The kinds a notebook source (percent format) makes, and whether it needs the VM target."""
    kinds: set[str] = set()
    vm_only = False
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            kinds |= _kind_of_call(node)
            if isinstance(node.func, ast.Name) and node.func.id == "requires":
                vm_only |= any(kw.arg == "target" for kw in node.keywords)
    return LabNeeds(lab, frozenset(kinds), vm_only)


def notebook_needs(src_dir: Path | None = None) -> list[LabNeeds]:
    """The needs of every notebook source in ``src_dir`` (notebooks/src/NN-topic.py), or by default of the
    notebooks this install ships (:func:`labkit.places.notebook_texts`)."""
    if src_dir is None:
        return [needs_of(name, text) for name, text in notebook_texts().items()]
    return [needs_of(path.stem, path.read_text()) for path in sorted(src_dir.glob("[0-9]*.py"))]


def why_no_modules(status: str, modules_dir: str) -> str:
    """Why this process cannot load a kernel module ('' when it can): CAP_SYS_MODULE must be effective
    (``status`` is /proc/self/status) and the kernel's modules present in ``modules_dir``."""
    caps = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), 0)
    if not caps >> CAP_SYS_MODULE & 1:
        return "no CAP_SYS_MODULE, as a learner's server should be"
    if not os.path.isdir(modules_dir):
        return f"no {modules_dir}: this kernel has no loadable modules here"
    return ""


def users_note(uid_map: str) -> str:
    """Whether this process runs in a user namespace of its own (a pod with ``hostUsers: false``), from
    /proc/self/uid_map: the whole range mapped onto itself (``0 0 4294967295``) is the node's own."""
    if uid_map.split() == ["0", "0", "4294967295"]:
        return "this server shares the machine's user ids (no user namespace of its own; a pod's hostUsers: false did not apply)"
    return "this server runs in a user namespace of its own (uid_map " + " ".join(uid_map.split()[:3]) + ")"


def verdicts(needs: Iterable[LabNeeds], supported: Mapping[str, bool], no_modules: str) -> list[str]:
    """One line per lab: runs, or which part skips and why (pure: the probing is done by the caller)."""
    lines = []
    for need in needs:
        missing = sorted(kind for kind in need.kinds if not supported.get(kind, False))
        if not missing:
            lines.append(f"  runs   {need.lab}" + ("  (its VM-only part skips: it needs the vagrant target)" if need.vm_only else ""))
            continue
        modules = sorted({KINDS[kind].module or kind for kind in missing if kind in KINDS})
        why = (f"a module it cannot load from here ({no_modules}); the node's admin can load it: modprobe {' '.join(modules)}"
               if no_modules else f"a module: modprobe {' '.join(modules)}")
        lines.append(f"  skips  {need.lab}: the parts that make {', '.join(missing)} (kernel {platform.release()} needs {why})")
    return lines


def probe(kinds: Iterable[str]) -> dict[str, bool]:
    """Which kinds this kernel makes, tried for real in a throwaway lab (tun/tap: /dev/net/tun opens)."""
    from .lab import Lab

    wanted = sorted(set(kinds))
    with Lab(uplink=False) as lab:
        return lab.supports(*wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.startcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default=None,
                        help="a folder of notebook sources (NN-topic.py); default: the notebooks this install ships")
    args = parser.parse_args(argv)
    needs = notebook_needs(Path(args.notebooks) if args.notebooks else None)
    if not needs:
        print(f"labkit start check: no notebooks in {args.notebooks or notebooks_dir()}", file=sys.stderr)
        return 2
    try:
        supported = probe(kind for need in needs for kind in need.kinds)
    except Exception as error:  # no namespaces at all: every lab skips, say why once
        from .targets.userns import why_not

        print(f"labkit start check: no lab can run here: {(why_not() if os.geteuid() else '') or error}")
        return 1
    no_modules = why_no_modules(Path("/proc/self/status").read_text(), f"/lib/modules/{platform.release()}")
    print(f"labkit start check (kernel {platform.release()}; "
          + (f"kernel modules cannot be loaded from here: {no_modules}" if no_modules else "kernel modules can be loaded") + "):")
    print("  " + users_note(Path("/proc/self/uid_map").read_text()))
    print("\n".join(verdicts(needs, supported, no_modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
