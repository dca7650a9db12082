"""Turn a raw kernel dump (see :mod:`.raw`) into a :class:`~labkit.model.Snapshot`.

Pure: no kernel, no I/O. This is where netlink's numbers become the words a learner
reads: flags → UP/LOWER_UP, IFLA_BRPORT_STATE 4 → 'blocking', IFLA_LINK +
IFLA_LINK_NETNSID → 'h1/veth1' (the veth's peer), tun type 2 → 'tap'.
"""

from __future__ import annotations

from typing import Any

from ..kinds import KINDS
from ..kinds.bridge import bridge_id
from ..model import STP_STATES, FdbEntry, Interface, Namespace, Neighbour, Route, Snapshot

FLAG_NAMES = (
    (0x1, "UP"), (0x2, "BROADCAST"), (0x8, "LOOPBACK"), (0x10, "POINTOPOINT"), (0x40, "RUNNING"),
    (0x80, "NOARP"), (0x100, "PROMISC"), (0x1000, "MULTICAST"), (0x10000, "LOWER_UP"), (0x20000, "DORMANT"),
)
NUD_STATES = (
    (0x01, "INCOMPLETE"), (0x02, "REACHABLE"), (0x04, "STALE"), (0x08, "DELAY"), (0x10, "PROBE"),
    (0x20, "FAILED"), (0x40, "NOARP"), (0x80, "PERMANENT"),
)
SCOPES = {0: "universe", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
PROTOS = {1: "redirect", 2: "kernel", 3: "boot", 4: "static", 16: "dhcp"}
NTF_SELF, NTF_MASTER = 0x02, 0x04
NUD_PERMANENT_FDB = 0x80

def flag_names(flags: int) -> tuple[str, ...]:
    return tuple(name for bit, name in FLAG_NAMES if flags & bit)


def nud_name(state: int) -> str:
    names = [name for bit, name in NUD_STATES if state & bit]
    return "|".join(names) if names else "NONE"


def link_kind(link: dict[str, Any]) -> str:
    """The device kind as iproute2 names it ('veth', 'bridge', 'tun', 'tap', 'loopback', ...)."""
    info = link.get("IFLA_LINKINFO") or {}
    kind = info.get("IFLA_INFO_KIND")
    if kind == "tun":
        return "tap" if (info.get("IFLA_INFO_DATA") or {}).get("IFLA_TUN_TYPE") == 2 else "tun"
    if kind:
        return str(kind)
    if link.get("flags", 0) & 0x8:
        return "loopback"
    return "device"


ID_KEYS = frozenset({"root_id", "bridge_id", "designated_root", "designated_bridge"})


def _info(kind: str, link: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The kind's own facts (its settings as the kernel reports them), as the kind declares them."""
    declared = KINDS.get(kind)
    if declared is None:
        return ()
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_DATA") or {}
    return tuple(declared.facts(data, link))


def _stp_state(link: dict[str, Any]) -> str | None:
    info = link.get("IFLA_LINKINFO") or {}
    if info.get("IFLA_INFO_SLAVE_KIND") != "bridge":
        return None
    state = (info.get("IFLA_INFO_SLAVE_DATA") or {}).get("IFLA_BRPORT_STATE")
    return STP_STATES[state] if isinstance(state, int) and 0 <= state < len(STP_STATES) else None


def _port_info(link: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
    wanted = (("port_cost", "IFLA_BRPORT_COST"), ("port_priority", "IFLA_BRPORT_PRIORITY"),
              ("designated_root", "IFLA_BRPORT_ROOT_ID"), ("designated_bridge", "IFLA_BRPORT_BRIDGE_ID"),
              ("port_no", "IFLA_BRPORT_NO"))
    return tuple((key, bridge_id(data[attr]) if key in ID_KEYS else data[attr]) for key, attr in wanted
                 if data.get(attr) is not None)


def namespace_order(label: str) -> tuple[bool, bool, str]:
    """main first, then upstream, then the rest by name."""
    return (label != "main", label != "upstream", label)


def parse(raw: dict[str, Any]) -> Snapshot:
    """Build the Snapshot of one lab from its raw dump."""
    spaces: dict[str, Any] = dict(sorted(raw.get("namespaces", {}).items(), key=lambda kv: namespace_order(kv[0])))
    names: dict[tuple[str, int], str] = {}
    for label, space in spaces.items():
        for link in space.get("links", ()):
            names[(label, link["index"])] = link.get("IFLA_IFNAME", f"if{link['index']}")

    namespaces = tuple(Namespace(label, space.get("netns", label), tuple(sorted(space.get("sysctl", {}).items())))
                       for label, space in spaces.items())
    interfaces = []
    for label, space in spaces.items():
        addresses: dict[int, list[str]] = {}
        for addr in space.get("addrs", ()):
            local = addr.get("IFA_LOCAL") or addr.get("IFA_ADDRESS")
            if local is not None and addr.get("scope", 0) != 253:
                addresses.setdefault(addr["index"], []).append(f"{local}/{addr.get('prefixlen', 32)}")
        for link in space.get("links", ()):
            interfaces.append(_interface(label, link, space, names, addresses.get(link["index"], [])))
    return Snapshot(
        lab_id=raw.get("lab_id", ""),
        namespaces=namespaces,
        interfaces=tuple(interfaces),
        routes=tuple(r for label, space in spaces.items() for r in _routes(label, space, names)),
        fdb=tuple(e for label, space in spaces.items() for e in _fdb(label, space, names)),
        neighbours=tuple(n for label, space in spaces.items() for n in _neighbours(label, space, names)),
        taken_at=raw.get("taken_at", 0.0),
        target=raw.get("target", "local"),
    )


def _interface(label: str, link: dict[str, Any], space: dict[str, Any], names: dict[tuple[str, int], str],
               addresses: list[str]) -> Interface:
    kind = link_kind(link)
    master = names.get((label, link["IFLA_MASTER"])) if link.get("IFLA_MASTER") else None
    peer = lower = None
    other = link.get("IFLA_LINK")
    if other:
        nsid = link.get("IFLA_LINK_NETNSID")
        other_label = space.get("nsids", {}).get(str(nsid), None) if nsid is not None else label
        if other_label is None:
            other_label = _guess_peer_namespace(link, label, names)
        target = names.get((other_label, other)) if other_label else None
        ref = f"{other_label}/{target}" if target else None
        if kind == "veth":
            peer = ref
        elif other != link["index"]:
            lower = ref
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_DATA") or {}
    if kind == "vxlan" and data.get("IFLA_VXLAN_LINK"):
        under = names.get((label, data["IFLA_VXLAN_LINK"]))
        lower = f"{label}/{under}" if under else None
    stats = link.get("IFLA_STATS64") or {}
    return Interface(
        name=link.get("IFLA_IFNAME", "?"),
        namespace=label,
        index=link["index"],
        kind=kind,
        mac=link.get("IFLA_ADDRESS") if kind not in ("tun", "ipip", "sit", "gre") else None,
        mtu=link.get("IFLA_MTU", 0),
        state=str(link.get("IFLA_OPERSTATE", "UNKNOWN")),
        flags=flag_names(link.get("flags", 0)),
        master=master,
        peer=peer,
        link=lower,
        addresses=tuple(addresses),
        stp_state=_stp_state(link),
        info=_info(kind, link) + _port_info(link),
        stats=tuple(sorted((k, int(v)) for k, v in stats.items())),
    )


def _guess_peer_namespace(link: dict[str, Any], label: str, names: dict[tuple[str, int], str]) -> str | None:
    """Without a netnsid map, the namespace whose device at IFLA_LINK names us back is unknown
    in general; pick the only candidate when there is exactly one."""
    candidates = [ns for (ns, idx) in names if idx == link.get("IFLA_LINK") and ns != label]
    return candidates[0] if len(candidates) == 1 else None


def _routes(label: str, space: dict[str, Any], names: dict[tuple[str, int], str]) -> list[Route]:
    found = []
    for r in space.get("routes", ()):
        if r.get("RTA_TABLE", r.get("table")) != 254 or r.get("type", 1) != 1:
            continue
        family = 6 if r.get("family") == 10 else 4
        dst = f"{r['RTA_DST']}/{r.get('dst_len', 0)}" if r.get("RTA_DST") else "default"
        if family == 6 and dst.startswith("fe80:"):
            continue
        found.append(Route(label, dst, names.get((label, r.get("RTA_OIF", 0))), r.get("RTA_GATEWAY"),
                           r.get("RTA_PREFSRC"), SCOPES.get(r.get("scope", 0), str(r.get("scope"))),
                           PROTOS.get(r.get("proto", 0), str(r.get("proto"))), family))
    return found


def _fdb(label: str, space: dict[str, Any], names: dict[tuple[str, int], str]) -> list[FdbEntry]:
    found = []
    for e in space.get("fdb", ()):
        port = names.get((label, e.get("ifindex", 0)))
        bridge = names.get((label, e.get("NDA_MASTER", 0)))
        if not port or not bridge or not e.get("NDA_LLADDR"):
            continue
        if e.get("flags", 0) & NTF_SELF and not e.get("flags", 0) & NTF_MASTER and port != bridge:
            continue  # the port's own hardware list, not what the bridge learned
        vlan = e.get("NDA_VLAN")
        found.append(FdbEntry(label, bridge, port, e["NDA_LLADDR"], vlan, bool(e.get("state", 0) & NUD_PERMANENT_FDB)))
    return found


def _neighbours(label: str, space: dict[str, Any], names: dict[tuple[str, int], str]) -> list[Neighbour]:
    found = []
    for n in space.get("neigh", ()):
        if not n.get("NDA_DST") or n.get("state", 0) == 0x40:
            continue
        found.append(Neighbour(label, names.get((label, n.get("ifindex", 0)), "?"), n["NDA_DST"], n.get("NDA_LLADDR"),
                               nud_name(n.get("state", 0))))
    return found
