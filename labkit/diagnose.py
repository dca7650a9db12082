"""Why a check failed, read from the snapshot: the hints that name what the learner can fix.

Pure: a :class:`~labkit.model.Snapshot` in, sentences out (:func:`~labkit.i18n.tr` sentences: a check's
hint shows them in the learner's language). A ping that gets no answer has
few causes a lab can show: a device on the way is down, the address sits on a bridge
port (a port hands every frame to its bridge, so an address left on it is deaf: lab 04's
lesson), no device of the lab has the address, or the sender has no route to it. An STP
root is the bridge with the lowest bridge id, priority first, MAC second.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .i18n import Text, tr
from .model import Interface, Snapshot

PRIORITY_STEP = 4096  # 802.1D-2004 keeps the priority in steps of 4096 (RSTP bridges refuse others)


def _ip(text: str) -> Any:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _has(itf: Interface, address: Any) -> bool:
    return any(ipaddress.ip_interface(cidr).ip == address for cidr in itf.addresses)


def _deaf(itf: Interface, cidr: str) -> Text:
    call = f"lab.move_ip({itf.name!r}, {itf.master!r}, ns={itf.namespace!r})"
    return tr("{cidr} sits on {ref}, a port of the bridge {bridge}: a port hands every frame to its bridge, so an "
              "address on it never answers; move it to the bridge: {call}", cidr=cidr, ref=itf.key, bridge=itf.master,
              call=call)


def unreachable_causes(snap: Snapshot, src: str, dst: str) -> list[Text]:
    """What the snapshot shows that keeps ``dst`` (an address) from answering ``src``."""
    address = _ip(dst)
    if address is None:
        return []
    causes: list[Text] = []
    on_link = False
    for itf in snap.in_namespace(src):
        for cidr in itf.addresses:
            if itf.kind == "loopback" or address not in ipaddress.ip_interface(cidr).network:
                continue
            on_link = True
            if not itf.is_up:
                call = f"lab.up({itf.name!r}, ns={src!r})"
                causes.append(tr("{ref}, the way to {dst}, is down: {call}", ref=itf.key, dst=dst, call=call))
            if itf.master:
                causes.append(_deaf(itf, cidr))
    owners = [itf for itf in snap.interfaces if _has(itf, address) and itf.kind != "loopback"]
    if not owners:
        causes.append(tr("no device of the lab has the address {dst}", dst=dst))
    for owner in owners:
        if not owner.is_up:
            call = f"lab.up({owner.name!r}, ns={owner.namespace!r})"
            causes.append(tr("{ref}, which has {dst}, is down: {call}", ref=owner.key, dst=dst, call=call))
        if owner.master:
            cidr = next(c for c in owner.addresses if ipaddress.ip_interface(c).ip == address)
            causes.append(_deaf(owner, cidr))
    has_route = on_link or any(r.namespace == src and (r.dst == "default" or (_net(r.dst) and address in _net(r.dst)))
                               for r in snap.routes)
    if not has_route:
        call = f"lab.route('default', via=..., ns={src!r})"
        causes.append(tr("{src} has no route to {dst}: give it an address in that subnet, or a route ({call})",
                         src=src, dst=dst, call=call))
    return causes


def _net(text: str) -> Any:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def bridge_id_text(value: Any) -> str:  # a Text when it can be read
    """'2000.aa:bb:…' (how iproute2 and the kernel write it) as 'priority 8192 (0x2000) + aa:bb:…'."""
    if not isinstance(value, str) or "." not in value:
        return str(value)
    prio, mac = value.split(".", 1)
    try:
        return tr("priority {priority} (0x{hex}) + {mac}", priority=int(prio, 16), hex=prio, mac=mac)
    except ValueError:
        return value


def stp_bridges(snap: Snapshot) -> list[Interface]:
    """The bridges of the lab that run STP."""
    return [itf for itf in snap.interfaces if itf.kind == "bridge" and itf.detail("stp")]


def winning_priority(snap: Snapshot, bridge: Interface) -> int | None:
    """A priority that makes ``bridge`` the root outright (lower than every other STP bridge's), or None if none can."""
    others = [int(b.detail("priority", 32768)) for b in stp_bridges(snap) if b.key != bridge.key]
    lowest = min(others, default=32768)
    wanted = (lowest - 1) // PRIORITY_STEP * PRIORITY_STEP
    return wanted if wanted >= 0 and lowest > 0 else None
