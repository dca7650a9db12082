"""Network namespaces: each one a separate copy of the network stack.

A namespace has its own devices, addresses, routes, neighbour cache, sysctls and
firewall. Containers are processes in their own namespace; in this lab each
"host" is one. A lab's namespaces are named ``labkit-<lab id>-<name>`` in the
kernel, so two labs never collide and the host's own namespace is never touched.
"""

from __future__ import annotations

from ..i18n import tr
from ..names import check_ns
from . import ops
from .base import Step


def netns(name: str) -> Step:
    """A new, empty namespace (only a loopback device ``lo``, which the lab brings up)."""
    check_ns(name, "name")
    return Step(tr("Create namespace {name}", name=name), (ops.netns_add(name),),
                tr("A new namespace starts with only lo; labkit brings lo up as a host would."))
