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
from ..names import check_ifname
from . import ops
from .base import Step

_KEY = re.compile(r"^net\.(ipv4|ipv6|core|bridge)\.[A-Za-z0-9_.\-]+$")


def sysctl(key: str, value: str | int, ns: str = "main") -> Step:
    """Set one network sysctl (only ``net.*`` keys: the lab never changes anything else)."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidInput(f"sysctl key {key!r} is not a network setting", hint="use a key such as 'net.ipv4.ip_forward'")
    return Step(f"Set {key} = {value}", (ops.sysctl(ns, key, str(value)),))


def rp_filter(dev: str, value: int, ns: str = "main") -> Step:
    check_ifname(dev)
    return sysctl(f"net.ipv4.conf.{dev}.rp_filter", value, ns)


def accept_local(dev: str, value: int = 1, ns: str = "main") -> Step:
    check_ifname(dev)
    return sysctl(f"net.ipv4.conf.{dev}.accept_local", value, ns)


def ip_forward(on: bool = True, ns: str = "main") -> Step:
    return sysctl("net.ipv4.ip_forward", 1 if on else 0, ns)
