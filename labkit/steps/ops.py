"""Builders of the primitive ops, each with the command a learner would type.

These are the only op kinds the agent knows. Family modules (veth, bridge, ...)
combine them into Steps; the agent uses them too, to build the undo of what it did.
"""

from __future__ import annotations

from typing import Any

from .. import kinds
from .base import Op, ip, tool

#: link_add's keys that are about the device, not its kind's settings: its parent, a veth's peer, pinned MACs
DEVICE_KEYS = ("link", "peer", "peer_ns", "address", "peer_address")


def netns_add(name: str) -> Op:
    return Op("netns_add", "main", {"name": name}, f"ip netns add {name}")


def netns_del(name: str) -> Op:
    return Op("netns_del", "main", {"name": name}, f"ip netns del {name}")


def link_add(ns: str, name: str, kind: str, **params: Any) -> Op:
    """``ip link add`` of any kind; ``link`` is the parent device (macvlan, vlan, ipvlan).

    The words after ``type KIND`` come from the kind's declaration (labkit/kinds/), the
    same values the agent packs into the netlink request."""
    words: list[object] = []
    if params.get("link"):
        words += ["link", params["link"]]
    words += ["name", name, *(["address", params["address"]] if params.get("address") else []), "type", kind]
    if kind == "veth":
        words += ["peer", "name", params["peer"], *(["address", params["peer_address"]] if params.get("peer_address") else [])]
        if params.get("peer_ns", ns) != ns:
            words += ["netns", params["peer_ns"]]
    settings = {key: value for key, value in params.items() if key not in DEVICE_KEYS}
    words += kinds.get(kind).words(settings)
    return Op("link_add", ns, {"name": name, "kind": kind, **params}, ip(ns, "link", "add", *words))


def tuntap_add(ns: str, name: str, mode: str, user: str | None = None) -> Op:
    return Op(
        "tuntap_add", ns, {"name": name, "mode": mode, "user": user},
        ip(ns, "tuntap", "add", "dev", name, "mode", mode, *(["user", user] if user else [])),
    )


def link_del(ns: str, name: str) -> Op:
    return Op("link_del", ns, {"name": name}, ip(ns, "link", "del", name))


def link_set(ns: str, name: str, **changes: Any) -> Op:
    """Change a device: ``up`` (bool), ``master`` (name or None), ``mtu``, ``mac``, ``netns`` (move)."""
    words: list[object] = []
    if "netns" in changes:
        words += ["netns", changes["netns"]]
    if "master" in changes:
        words += ["nomaster"] if changes["master"] is None else ["master", changes["master"]]
    if "mtu" in changes:
        words += ["mtu", changes["mtu"]]
    if "mac" in changes:
        words += ["address", changes["mac"]]
    if "up" in changes:
        words += ["up" if changes["up"] else "down"]
    return Op("link_set", ns, {"name": name, **changes}, ip(ns, "link", "set", "dev", name, *words))


def addr_add(ns: str, dev: str, cidr: str) -> Op:
    return Op("addr_add", ns, {"dev": dev, "cidr": cidr}, ip(ns, "addr", "add", cidr, "dev", dev))


def addr_del(ns: str, dev: str, cidr: str) -> Op:
    return Op("addr_del", ns, {"dev": dev, "cidr": cidr}, ip(ns, "addr", "del", cidr, "dev", dev))


def move_ip(ns: str, src: str, dst: str, cidrs: list[str] | None = None) -> Op:
    """Move addresses (and the routes that use them) from ``src`` to ``dst`` in one go."""
    shown = " ".join(cidrs) if cidrs else "<each address of " + src + ">"
    return Op(
        "move_ip", ns, {"src": src, "dst": dst, "cidrs": cidrs},
        f"{ip(ns, 'addr', 'del', shown, 'dev', src)} && {ip(ns, 'addr', 'add', shown, 'dev', dst)}"
        f"  # and routes via {src} move to {dst}",
    )


def route_add(ns: str, dst: str, gateway: str | None = None, dev: str | None = None) -> Op:
    return Op(
        "route_add", ns, {"dst": dst, "gateway": gateway, "dev": dev},
        ip(ns, "route", "add", dst, *(["via", gateway] if gateway else []), *(["dev", dev] if dev else [])),
    )


def route_del(ns: str, dst: str, gateway: str | None = None, dev: str | None = None) -> Op:
    return Op(
        "route_del", ns, {"dst": dst, "gateway": gateway, "dev": dev},
        ip(ns, "route", "del", dst, *(["via", gateway] if gateway else []), *(["dev", dev] if dev else [])),
    )


def sysctl(ns: str, key: str, value: str) -> Op:
    return Op("sysctl", ns, {"key": key, "value": value}, tool(ns, "sysctl", "-w", f"{key}={value}"))


def bridge_set(ns: str, name: str, **settings: Any) -> Op:
    """Bridge settings: ``stp`` (bool), ``forward_delay`` (s), ``priority``, ``hello_time`` (s), ``max_age`` (s),
    ``ageing_time`` (s); the words and their values come from the bridge's declaration."""
    words = kinds.get("bridge").words(settings)
    return Op("bridge_set", ns, {"name": name, **settings}, ip(ns, "link", "set", "dev", name, "type", "bridge", *words))


def brport_set(ns: str, name: str, **settings: Any) -> Op:
    """Bridge port settings: ``cost``, ``priority``."""
    words: list[object] = []
    for key in ("cost", "priority"):
        if key in settings:
            words += [key, settings[key]]
    return Op("brport_set", ns, {"name": name, **settings}, f"bridge{'' if ns == 'main' else ' -n ' + ns} link set dev {name} " + " ".join(map(str, words)))


def neigh_flush(ns: str, dev: str | None = None) -> Op:
    return Op("neigh_flush", ns, {"dev": dev}, ip(ns, "neigh", "flush", *(["dev", dev] if dev else ["all"])))


def nft_apply(ns: str, table: str, script: str) -> Op:
    """Load an nftables ruleset (its own table, replaced as a whole) into ``ns``."""
    return Op("nft_apply", ns, {"table": table, "script": script}, tool(ns, "nft", "-f", "-", f"  # table {table}:\n{script}"))


def nft_delete(ns: str, table: str, family: str = "ip") -> Op:
    return Op("nft_delete", ns, {"table": table, "family": family}, tool(ns, "nft", "delete", "table", family, table))
