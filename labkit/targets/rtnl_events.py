"""rtnetlink notifications as small events a learner can read: "veth0 down", "10.0.0.1/24 on br0".

A NETLINK_ROUTE socket bound to multicast groups receives a message for every change the
kernel makes in its namespace: RTM_NEWLINK/RTM_DELLINK on RTNLGRP_LINK (a device appears,
goes up or down, gets a master; a bridge port changes STP state arrives there too, as an
RTM_NEWLINK of family AF_BRIDGE), RTM_NEWADDR/RTM_DELADDR on the IPv4/IPv6 address groups,
RTM_NEWROUTE/RTM_DELROUTE on the route groups and RTM_NEWNEIGH/RTM_DELNEIGH (ARP/NDP
entries and the bridge's forwarding database) on RTNLGRP_NEIGH.

The kernel repeats itself (one ``ip link set up`` sends several RTM_NEWLINKs), so
:class:`Decoder` keeps the little it needs per device and says only what changed. Pure:
bytes in, events out; the socket lives in :mod:`.agent_watch`.
"""

from __future__ import annotations

from typing import Any

from ..i18n import Text, tr
from ..model import STP_STATES
from .rtnl import _HDR, AF_BRIDGE, AF_INET, BRPORT, _decode, attrs, decode_addr, decode_link, decode_neigh, decode_route

RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR = 16, 17, 20, 21
RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEIGH, RTM_DELNEIGH = 24, 25, 28, 29
RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE = 1, 3, 5, 7
RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE = 9, 11
#: the bind() mask of every group above (group N is bit N-1)
GROUPS = sum(1 << (g - 1) for g in (RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE,
                                    RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_ROUTE))
IFF_UP = 0x1
IFLA_PROTINFO = 12
RT_TABLE_LOCAL = 255  # the kernel's own routes to each local address: noise for a learner
NUD_NOARP, NUD_PERMANENT = 0x40, 0x80
NUD = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE", 0x20: "FAILED",
       0x40: "NOARP", 0x80: "PERMANENT"}


def messages(data: bytes) -> list[tuple[int, bytes]]:
    """(type, message bytes) of each netlink message in one datagram."""
    found, offset = [], 0
    while offset + 16 <= len(data):
        length, kind = _HDR.unpack_from(data, offset)[:2]
        if length < 16:
            break
        found.append((kind, data[offset: offset + length]))
        offset += (length + 3) & ~3
    return found


def _port_state(msg: bytes) -> str | None:
    """The STP state of a bridge port in an AF_BRIDGE RTM_NEWLINK (IFLA_PROTINFO), or None."""
    raw = attrs(msg, 32).get(IFLA_PROTINFO)
    if raw is None:
        return None
    code = _decode(attrs(raw), BRPORT).get("IFLA_BRPORT_STATE")
    return None if code is None else (STP_STATES[code] if 0 <= code < len(STP_STATES) else str(code))


class Decoder:
    """The events of one namespace's notifications; remembers each device's name, up flag,
    operational state, master and port state so that repeated messages say nothing."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.links: dict[int, dict[str, Any]] = {}

    def name(self, index: int) -> str:
        return str(self.links.get(index, {}).get("name") or f"if{index}")

    def _event(self, what: str, name: str, summary: Text, **extra: Any) -> dict[str, Any]:
        """One change; its summary in English, and as message id + fields for the learner's language (labkit.i18n)."""
        return {"ns": self.ns, "what": what, "name": name, "summary": str(summary), "summary_text": summary.to_data(), **extra}

    def seed(self, links: list[dict[str, Any]]) -> None:
        """Start from a dump (RawNetlink.dump('links')), so the first change is told as a change."""
        for link in links:
            self.links[link["index"]] = self._link_facts(link)

    @staticmethod
    def _link_facts(link: dict[str, Any]) -> dict[str, Any]:
        slave = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
        code = slave.get("IFLA_BRPORT_STATE")
        return {"name": link.get("IFLA_IFNAME"), "up": bool(link.get("flags", 0) & IFF_UP),
                "oper": link.get("IFLA_OPERSTATE"), "master": link.get("IFLA_MASTER", 0),
                "mtu": link.get("IFLA_MTU"), "mac": link.get("IFLA_ADDRESS"),
                "kind": (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_KIND", ""),
                "port": STP_STATES[code] if isinstance(code, int) and 0 <= code < len(STP_STATES) else None}

    def decode(self, data: bytes) -> list[dict[str, Any]]:
        """The events of one datagram (several messages may share it)."""
        events: list[dict[str, Any]] = []
        for kind, msg in messages(data):
            if kind in (RTM_NEWLINK, RTM_DELLINK):
                events += self._link(kind, msg)
            elif kind in (RTM_NEWADDR, RTM_DELADDR):
                events += self._addr(kind, msg)
            elif kind in (RTM_NEWROUTE, RTM_DELROUTE):
                events += self._route(kind, msg)
            elif kind in (RTM_NEWNEIGH, RTM_DELNEIGH):
                events += self._neigh(kind, msg)
        return events

    def _link(self, kind: int, msg: bytes) -> list[dict[str, Any]]:
        family = msg[16]
        link = decode_link(msg, 16)
        index = link["index"]
        old = self.links.get(index)
        if kind == RTM_DELLINK:
            if family == AF_BRIDGE:  # a port left its bridge: the AF_UNSPEC message tells the master change
                return []
            gone = self.links.pop(index, None)
            name = link.get("IFLA_IFNAME") or (gone or {}).get("name") or f"if{index}"
            return [self._event("link", name, tr("{name} removed", name=name))]
        if family == AF_BRIDGE:
            state = _port_state(msg)
            if old is None or state is None or old.get("port") == state:
                return []
            before, old["port"] = old.get("port"), state
            master = self.name(link.get("IFLA_MASTER") or old.get("master") or 0)
            change = f"{before} → {state}" if before else state  # port states as the kernel names them
            return [self._event("link", old["name"], tr("{name} (port of {master}): {change}", name=old["name"], master=master,
                                                        change=change), state=state)]
        new = self._link_facts(link)
        if old is not None and new["port"] is None:
            new["port"] = old.get("port")  # AF_UNSPEC messages may lack the port data
        self.links[index] = new
        name = new["name"] or f"if{index}"
        if old is None:
            return [self._event("link", name, tr("{name} added ({kind})", name=name, kind=new["kind"]) if new["kind"]
                                else tr("{name} added", name=name))]
        said: list[Text] = []
        if old["name"] != new["name"]:
            said.append(tr("{old} renamed {name}", old=old["name"], name=name))
        if old["up"] != new["up"]:
            said.append(tr("{name} set up", name=name) if new["up"] else tr("{name} set down", name=name))
        elif old["oper"] != new["oper"] and new["oper"]:
            said.append(tr("{name} state {state}", name=name, state=new["oper"]))  # as `ip link` says it: UP, DOWN, ...
        if old.get("mtu") != new["mtu"] and new["mtu"]:
            said.append(tr("{name} mtu {mtu}", name=name, mtu=new["mtu"]))
        if old.get("mac") != new["mac"] and new["mac"]:
            said.append(tr("{name} MAC {mac}", name=name, mac=new["mac"]))
        if old["master"] != new["master"]:
            said.append(tr("{name} joined {master}", name=name, master=self.name(new["master"])) if new["master"]
                        else tr("{name} left {master}", name=name, master=self.name(old["master"])))
        if new["port"] != old.get("port") and new["port"] and new["master"]:
            change = f"{old['port']} → {new['port']}" if old.get("port") else new["port"]
            said.append(tr("{name} (port of {master}): {change}", name=name, master=self.name(new["master"]), change=change))
        return [self._event("link", name, text) for text in said]

    def _addr(self, kind: int, msg: bytes) -> list[dict[str, Any]]:
        a = decode_addr(msg, 16)
        ip = a.get("IFA_LOCAL") or a.get("IFA_ADDRESS") or "?"
        dev = self.name(a["index"])
        cidr = f"{ip}/{a['prefixlen']}"
        text = tr("{cidr} on {dev}", cidr=cidr, dev=dev) if kind == RTM_NEWADDR else tr("{cidr} removed from {dev}", cidr=cidr, dev=dev)
        return [self._event("addr", dev, text, address=cidr, added=kind == RTM_NEWADDR)]

    def _route(self, kind: int, msg: bytes) -> list[dict[str, Any]]:
        r = decode_route(msg, 16)
        if r.get("RTA_TABLE", r["table"]) == RT_TABLE_LOCAL or r["type"] not in (1,):  # unicast routes of the main tables
            return []
        if r["family"] != AF_INET and str(r.get("RTA_DST", "")).startswith(("fe80:", "ff00:")):
            return []  # IPv6's per-link routes: every link that goes up makes them
        dst = f"{r['RTA_DST']}/{r['dst_len']}" if "RTA_DST" in r else "default"
        via = f" via {r['RTA_GATEWAY']}" if "RTA_GATEWAY" in r else ""
        dev = self.name(r["RTA_OIF"]) if "RTA_OIF" in r else ""
        route = f"{dst}{via}" + (f" dev {dev}" if dev else "")  # as `ip route` prints it
        text = tr("route {route} added", route=route) if kind == RTM_NEWROUTE else tr("route {route} removed", route=route)
        return [self._event("route", dev or dst, text)]

    def _neigh(self, kind: int, msg: bytes) -> list[dict[str, Any]]:
        n = decode_neigh(msg, 16)
        dev = self.name(n["ifindex"])
        if n["state"] & (NUD_NOARP | NUD_PERMANENT):
            return []  # a bridge's own MACs, multicast groups: the kernel's bookkeeping, not the lesson's
        if n["family"] == AF_BRIDGE:
            mac = n.get("NDA_LLADDR", "?")
            text = tr("{dev} learned {mac}", dev=dev, mac=mac) if kind == RTM_NEWNEIGH else tr("{dev} forgot {mac}", dev=dev, mac=mac)
            return [self._event("neigh", dev, text, fdb=True)]
        dst = n.get("NDA_DST", "?")
        if kind == RTM_DELNEIGH:
            return [self._event("neigh", dev, tr("neighbour {dst} on {dev} removed", dst=dst, dev=dev))]
        state = "|".join(label for bit, label in NUD.items() if n["state"] & bit) or "NONE"
        if "NDA_LLADDR" in n:
            return [self._event("neigh", dev, tr("neighbour {dst} is {mac} on {dev} ({state})", dst=dst, mac=n["NDA_LLADDR"],
                                                 dev=dev, state=state))]
        return [self._event("neigh", dev, tr("neighbour {dst} on {dev} ({state})", dst=dst, dev=dev, state=state))]

