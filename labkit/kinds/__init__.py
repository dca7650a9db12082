"""Every device kind labkit can make, one module each: ``labkit/kinds/<kind>.py``.

A module declares its kind as ``KIND`` (or several related kinds as ``KINDS``) with
:class:`~labkit.kinds.base.Kind`; this package finds every module here, so adding
a kind is adding its file. An import error in a kind module is raised, never
skipped: a kind that silently vanished would only show as "cannot make" later.

    from labkit import kinds
    kinds.get("vxlan").words({"vni": 42, "remote": "10.0.0.2"})   # ['id', 42, 'remote', '10.0.0.2', 'dstport', 4789]
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from ..errors import InvalidInput
from ..i18n import tr
from .base import Codec, Kind, Param, Style


def _discover() -> dict[str, Kind]:
    found: dict[str, Kind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        declared: Any = getattr(module, "KINDS", None) or (getattr(module, "KIND", None),)
        for kind in declared:
            if not isinstance(kind, Kind):
                raise ImportError(f"labkit.kinds.{info.name} declares no KIND (or KINDS) of type Kind")
            if kind.name in found:
                raise ImportError(f"device kind {kind.name!r} is declared twice (labkit.kinds.{info.name})")
            found[kind.name] = kind
    return found


#: every kind, by name (the kind as `ip -d link` and the snapshot call it: 'tap', not 'tun', for a tap)
KINDS: dict[str, Kind] = _discover()


def get(name: str) -> Kind:
    """The declaration of kind ``name``; an :class:`InvalidInput` naming the known kinds otherwise."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidInput(tr("device kind {name!r} is unknown to labkit", name=name),
                           hint=tr("known kinds: {kinds}", kinds=", ".join(sorted(KINDS))))
    return kind


def by_info_kind() -> dict[str, Kind]:
    """Kinds by ``IFLA_INFO_KIND`` (what the kernel names them in a dump): a tap is reported as 'tun'."""
    out: dict[str, Kind] = {}
    for kind in KINDS.values():
        out.setdefault(kind.info_kind, kind)
    return out


def module_of(name: str) -> str:
    """The kernel module that provides kind ``name`` (for a "this kernel lacks …" message)."""
    kind = KINDS.get(name)
    return kind.module if kind else name


__all__ = ["KINDS", "Codec", "Kind", "Param", "Style", "by_info_kind", "get", "module_of"]
