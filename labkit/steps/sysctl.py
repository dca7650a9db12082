"""Kernel settings per namespace (``/proc/sys/net``) that the labs meet.

- ``rp_filter`` (reverse-path filter): drop a packet when the route back to its
  source would not leave through the device it came in on (1 strict, 2 loose, 0 off);
  the kernel uses the larger of ``all`` and the device's own value.
- ``accept_local``: accept packets whose source is one of our own addresses,
  which a same-namespace veth ping sends (seed 000).
- ``ip_forward``: route packets between devices: a namespace becomes a router.
"""

from __future__ import annotations

import re

from ..errors import InvalidInput
from ..i18n import tr
from ..names import check_bool, check_ns, check_range, check_safe_name, shown
from . import ops
from .base import Step

_KEY = re.compile(r"net\.(ipv4|ipv6|core|bridge)(\.[A-Za-z0-9_-]+)+")
_VALUE = re.compile(r"[A-Za-z0-9_.:, \t-]{1,256}")


def _value(value: object) -> str:
    """A sysctl value: a whole number, or a short line of plain words and numbers ('4096 87380 6291456')."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _VALUE.fullmatch(value) and value.strip():
        return value
    raise InvalidInput(tr("sysctl value {value} is not a number or a plain setting", value=shown(value)),
                       hint=tr("give a whole number such as 1, or a short string of numbers and words"))


def sysctl(key: str, value: str | int, ns: str = "main") -> Step:
    """Set one network sysctl (only ``net.*`` keys: the lab never changes anything else)."""
    if not isinstance(key, str) or len(key) > 200 or not _KEY.fullmatch(key):
        raise InvalidInput(tr("sysctl key {key} is not a network setting", key=shown(key)),
                           hint=tr("use a key such as 'net.ipv4.ip_forward'"))
    text = _value(value)
    check_ns(ns)
    return Step(tr("Set {key} = {value}", key=key, value=text), (ops.sysctl(ns, key, text),))


def _conf_dev(dev: object) -> str:
    """A device named inside a sysctl key (``net.ipv4.conf.<dev>.…``), or 'all' / 'default'."""
    name = check_safe_name(dev)
    if "." in name:
        by_hand = f"sysctl -w net/ipv4/conf/{name}/<setting>=<value>"
        raise InvalidInput(tr("device {name!r} has a '.', which a dotted sysctl key cannot name", name=name),
                           hint=tr("give this device a name without '.', or set it by hand: {command}", command=by_hand))
    return name


def rp_filter(dev: str, value: int, ns: str = "main") -> Step:
    """Reverse-path filter of ``dev`` ('all' for the namespace): 0 off, 1 strict, 2 loose."""
    name = _conf_dev(dev)
    return sysctl(f"net.ipv4.conf.{name}.rp_filter", check_range(value, 0, 2, "rp_filter"), ns)


def accept_local(dev: str, value: int = 1, ns: str = "main") -> Step:
    name = _conf_dev(dev)
    return sysctl(f"net.ipv4.conf.{name}.accept_local", int(check_bool(value, "value")), ns)


def ip_forward(on: bool = True, ns: str = "main") -> Step:
    return sysctl("net.ipv4.ip_forward", 1 if check_bool(on, "on") else 0, ns)
