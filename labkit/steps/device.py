"""Any device kind labkit knows, by name: ``lab.device('d0', 'dummy')``.

The named steps (``lab.veth``, ``lab.vxlan`` …) are this with a signature of their
own. A kind declared in ``labkit/kinds/`` can be made here as soon as its file
exists, with its settings checked by its declaration.
"""

from __future__ import annotations

from typing import Any

from .. import kinds
from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_ifname, check_ns
from . import ops
from .base import Step


def device(name: str, kind: str, ns: str = "main", parent: str | None = None, **settings: Any) -> Step:
    """A new device of ``kind`` (``ip link add [link PARENT] NAME type KIND …``)."""
    check_ifname(name)
    check_ns(ns)
    declared = kinds.get(kind)
    if declared.created_by != "link_add" or declared.name == "veth":
        raise InvalidInput(tr("{kind} devices have a step of their own", kind=kind),
                           hint=tr("use lab.{step}(...)", step="veth" if kind == "veth" else "tuntap"))
    if declared.parent and parent is None:
        raise InvalidInput(tr("a {kind} device sits on a parent device", kind=kind),
                           hint=tr("e.g. lab.device({name!r}, {kind!r}, parent='eth0')", name=name, kind=kind))
    if parent is not None and not declared.parent:
        raise InvalidInput(tr("a {kind} device has no parent device", kind=kind), hint=tr("leave parent= out"))
    extra = {"link": check_ifname(parent, tr("parent"))} if parent is not None else {}
    checked = declared.check(settings)
    return Step(tr("Create {kind} device {name}", kind=kind, name=name), (ops.link_add(ns, name, kind, **extra, **checked),),
                declared.summary)
