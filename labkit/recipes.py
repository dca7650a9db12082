"""Set-ups that tests, benches and notebooks share, so each is written once.

Each recipe takes a :class:`~labkit.Lab` and runs ordinary steps on it (so the
commands show, and undo works, as for any step); it returns the names it made.

- :func:`seed000_pair`: the first experiment of *Linux 虚拟网络设备*: a veth pair with
  both ends in one namespace, ``veth0`` 20.1.0.10/24 ⇄ ``veth1`` 20.1.0.11/24. A ping
  from one end to the other needs ``accept_local`` (the request comes in from one of
  the namespace's own addresses), and its replies come back on ``lo``.
- :func:`host_pair`: the right way of lab 03: a cable from ``main`` into a namespace of its
  own, an address at each end of one /24, both ends up: the smallest lab two hosts talk in.
- :func:`bridge_lab`: the core of lab 04: the seed's pair, ``br0`` with ``veth0`` as its port
  and ``veth0``'s address moved onto it, and namespace ``h1`` plugged into ``br0`` (20.1.0.20/24).
- :func:`stp_triangle`: three switches (namespaces ``sw1``..``sw3``, each with a bridge
  ``br0``) wired in a loop, as the STP article draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lab import Lab

SEED000 = {"veth0": "20.1.0.10/24", "veth1": "20.1.0.11/24"}
#: the triangle's cables: (switch, its end) ⇄ (switch, its end)
TRIANGLE = ((("sw1", "to-sw2"), ("sw2", "to-sw1")), (("sw2", "to-sw3"), ("sw3", "to-sw2")), (("sw3", "to-sw1"), ("sw1", "to-sw3")))


def seed000_pair(lab: Lab, *, accept_local: bool = False, ns: str = "main") -> tuple[str, str]:
    """veth0 ⇄ veth1 in ``ns``, addressed and up; with ``accept_local`` also the sysctls that let them ping
    (accept_local=1 on both ends, rp_filter=0 on both and on 'all')."""
    lab.veth("veth0", "veth1", ns=ns)
    for dev, cidr in SEED000.items():
        lab.addr(dev, cidr, ns=ns)
    lab.up("veth0", "veth1", ns=ns)
    if accept_local:
        for dev in ("veth0", "veth1", "all"):
            lab.rp_filter(dev, 0, ns=ns)
        lab.accept_local("veth0", ns=ns)
        lab.accept_local("veth1", ns=ns)
    return "veth0", "veth1"


def host_pair(lab: Lab, ns: str, near: str, far: str, subnet: str) -> tuple[str, str]:
    """Namespace ``ns`` with ``far`` in it, wired to ``near`` in main; ``subnet`` '10.66.0' gives .1 (near) and .2 (far)."""
    lab.netns(ns)
    lab.veth(near, far, peer_ns=ns)
    lab.addr(near, f"{subnet}.1/24")
    lab.addr(far, f"{subnet}.2/24", ns=ns)
    lab.up(near)
    lab.up(far, ns=ns)
    return f"{subnet}.1", f"{subnet}.2"


def bridge_lab(lab: Lab, *, accept_local: bool = False) -> None:
    """Lab 04's core (see the module docstring); with ``accept_local``, also the sysctls that let
    ``br0`` and ``veth1`` ping each other in one namespace (as :func:`seed000_pair` sets them)."""
    seed000_pair(lab, accept_local=accept_local)
    lab.bridge("br0")
    lab.enslave("veth0", "br0")
    lab.up("br0")
    lab.move_ip("veth0", "br0")
    if accept_local:
        lab.accept_local("br0")
        lab.rp_filter("br0", 0)
    lab.netns("h1")
    lab.veth("veth-h1", "eth0", peer_ns="h1")
    lab.enslave("veth-h1", "br0")
    lab.up("veth-h1")
    lab.addr("eth0", "20.1.0.20/24", ns="h1")
    lab.up("eth0", ns="h1")


def stp_triangle(lab: Lab, *, stp: bool = True, forward_delay: float = 2.0, up: bool = True) -> list[str]:
    """Three switches sw1, sw2, sw3 (a bridge br0 in each) wired in a loop; STP on or off."""
    switches = ["sw1", "sw2", "sw3"]
    for name in switches:
        lab.netns(name)
        lab.bridge("br0", stp=stp, forward_delay=forward_delay if stp else None, ns=name)
    for (a_ns, a_dev), (b_ns, b_dev) in TRIANGLE:
        lab.veth(a_dev, b_dev, ns=a_ns, peer_ns=b_ns)
        lab.enslave(a_dev, "br0", ns=a_ns)
        lab.enslave(b_dev, "br0", ns=b_ns)
    if up:
        for name in switches:
            ports = [dev for pair in TRIANGLE for ns, dev in pair if ns == name]
            lab.up("br0", *ports, ns=name)
    return [f"{name}/br0" for name in switches]


__all__ = ["SEED000", "TRIANGLE", "host_pair", "seed000_pair", "stp_triangle"]
