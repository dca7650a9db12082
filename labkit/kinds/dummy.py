"""dummy: a device that drops everything it is given.

It has no wire and no peer: a place to put an address that is always up (a router
id, a service address), like a loopback device you can have many of.
"""

from __future__ import annotations

from ..i18n import tr
from .base import Kind, Style

KIND = Kind("dummy", tr("a device with no wire: it drops what it sends, a home for an address"), "dummy",
            style=Style(fill="#eeeeee"))
