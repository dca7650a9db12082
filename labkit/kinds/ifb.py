"""ifb: an Intermediate Functional Block, a device that only receives what tc redirects to it.

Nothing is wired to it: a tc filter on another device (``action mirred egress redirect
dev ifb0``) hands it that device's packets, and it sends each one straight back where
it came from. On the way it passes the ifb's own egress queue, so traffic a device
*receives* can be shaped there (tc shapes only what a device sends): the usual way to
limit ingress.
"""

from __future__ import annotations

from ..i18n import tr
from .base import Kind, Style

KIND = Kind("ifb", tr("a device tc redirects packets to, to shape what another device receives"), "ifb",
            style=Style(fill="#e8f0e0"))
