"""Any device kind labkit knows, by name: ``lab.device('d0', 'dummy')``.

The named steps (``lab.veth``, ``lab.vxlan`` …) are this with a signature of their
own. A kind declared in ``labkit/kinds/`` can be made here as soon as its file
exists, with its settings checked by its declaration.
"""

from __future__ import annotations

from typing import Any

from .. import kinds
from ..errors import InvalidInput
from ..names import check_ifname, check_ns
from . import ops
from .base import Step


def device(name: str, kind: str, ns: str = "main", parent: str | None = None, **settings: Any) -> Step:
    """A new device of ``kind`` (``ip link add [link PARENT] NAME type KIND …``)."""
    check_ifname(name)
    check_ns(ns)
    declared = kinds.get(kind)
    if declared.created_by != "link_add" or declared.name == "veth":
        raise InvalidInput(f"{kind} devices have a step of their own", hint=f"use lab.{'veth' if kind == 'veth' else 'tuntap'}(...)")
    if declared.parent and parent is None:
        raise InvalidInput(f"a {kind} device sits on a parent device", hint=f"e.g. lab.device({name!r}, {kind!r}, parent='eth0')")
    if parent is not None and not declared.parent:
        raise InvalidInput(f"a {kind} device has no parent device", hint="leave parent= out")
    extra = {"link": check_ifname(parent, "parent")} if parent is not None else {}
    checked = declared.check(settings)
    return Step(f"Create {kind} device {name}", (ops.link_add(ns, name, kind, **extra, **checked),), declared.summary)
