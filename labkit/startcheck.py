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
image (``deploy/jupyterhub``) and Binder's ``start`` run it, and the first writes it to the learner's
``labs/START-CHECK.txt``: so it speaks the learner's language (``LABKIT_LANG``, the locale; :mod:`labkit.i18n`).
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

from .i18n import Text, localize, tr
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


def why_no_modules(status: str, modules_dir: str) -> Text | str:
    """Why this process cannot load a kernel module ('' when it can): CAP_SYS_MODULE must be effective
    (``status`` is /proc/self/status) and the kernel's modules present in ``modules_dir``."""
    caps = next((int(line.split()[1], 16) for line in status.splitlines() if line.startswith("CapEff:")), 0)
    if not caps >> CAP_SYS_MODULE & 1:
        return tr("no CAP_SYS_MODULE, as a learner's server should be")
    if not os.path.isdir(modules_dir):
        return tr("no {path}: this kernel has no loadable modules here", path=modules_dir)
    return ""


def users_note(uid_map: str) -> Text:
    """Whether this process runs in a user namespace of its own (a pod with ``hostUsers: false``), from
    /proc/self/uid_map: the whole range mapped onto itself (``0 0 4294967295``) is the node's own."""
    if uid_map.split() == ["0", "0", "4294967295"]:
        return tr("this server shares the machine's user ids (no user namespace of its own; a pod's hostUsers: false did not apply)")
    return tr("this server runs in a user namespace of its own (uid_map {uid_map})", uid_map=" ".join(uid_map.split()[:3]))


def verdicts(needs: Iterable[LabNeeds], supported: Mapping[str, bool], no_modules: str) -> list[Text]:
    """One line per lab: runs, or which part skips and why (pure: the probing is done by the caller)."""
    lines = []
    for need in needs:
        missing = sorted(kind for kind in need.kinds if not supported.get(kind, False))
        if not missing:
            lines.append(tr("  runs   {lab}  (its VM-only part skips: it needs the vagrant target)", lab=need.lab)
                         if need.vm_only else tr("  runs   {lab}", lab=need.lab))
            continue
        modprobe = "modprobe " + " ".join(sorted({KINDS[kind].module or kind for kind in missing if kind in KINDS}))
        why = (tr("a module it cannot load from here ({reason}); the node's admin can load it: {command}",
                  reason=no_modules, command=modprobe)
               if no_modules else tr("a module: {command}", command=modprobe))
        lines.append(tr("  skips  {lab}: the parts that make {kinds} (kernel {release} needs {why})", lab=need.lab,
                        kinds=", ".join(missing), release=platform.release(), why=why))
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

        print(localize(tr("labkit start check: no lab can run here: {reason}", reason=(why_not() if os.geteuid() else "") or error)))
        return 1
    no_modules = why_no_modules(Path("/proc/self/status").read_text(), f"/lib/modules/{platform.release()}")
    modules = (tr("kernel modules cannot be loaded from here: {reason}", reason=no_modules) if no_modules
               else tr("kernel modules can be loaded"))
    print(localize(tr("labkit start check (kernel {release}; {modules}):", release=platform.release(), modules=modules)))
    print("  " + localize(users_note(Path("/proc/self/uid_map").read_text())))
    print("\n".join(localize(line) for line in verdicts(needs, supported, no_modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
