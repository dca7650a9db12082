"""Executors for namespace and device ops (run by the agent, see :mod:`.kernel`).

Each executor checks what is there first, so re-running a step that already holds
is a no-op, and returns the ops that undo exactly what it changed.
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import AlreadyExists, InvalidInput, NotFound, StepFailed
from ..steps import ops
from ..steps.base import Op
from . import nsutil
from .done import Done
from .rtnl import bridge_data

if TYPE_CHECKING:
    from .kernel import Kernel

IFF_UP = 0x1
TUNSETIFF = 0x400454CA
TUNSETPERSIST = 0x400454CB
TUNSETOWNER = 0x400454CC
IFF_TUN, IFF_TAP, IFF_NO_PI = 0x0001, 0x0002, 0x1000


def kind_of(link: dict[str, Any]) -> str:
    info = link.get("IFLA_LINKINFO") or {}
    kind = info.get("IFLA_INFO_KIND") or ("loopback" if link.get("IFLA_IFNAME") == "lo" else "device")
    if kind == "tun":
        data = info.get("IFLA_INFO_DATA") or {}
        return "tap" if data.get("IFLA_TUN_TYPE") == 2 else "tun"
    return str(kind)


def _info_data(link: dict[str, Any]) -> dict[str, Any]:
    return (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_DATA") or {}


def netns_add(k: Kernel, op: Op) -> Done:
    label = op.args["name"]
    if not k.create_ns(label):
        return Done(False)
    return Done(True, [ops.netns_del(label)], [op.command, ops.link_set(label, "lo", up=True).command])  # lo comes up too


def netns_del(k: Kernel, op: Op) -> Done:
    return Done(k.delete_ns(op.args["name"]))


def _link_kwargs(k: Kernel, op: Op) -> dict[str, Any]:
    """pyroute2 keyword arguments for ``link('add')`` of ``op``'s kind."""
    a = op.args
    kind = a["kind"]
    kw: dict[str, Any] = {"ifname": a["name"], "kind": kind}
    if a.get("link"):
        kw["link"] = k.index(op.ns, a["link"], "parent device")
    if kind == "veth":
        kw["peer"] = {"ifname": a["peer"]}
        if a.get("peer_ns", op.ns) != op.ns:
            kw["peer"]["net_ns_fd"] = k.netns(a["peer_ns"])
    elif kind == "bridge":
        if "stp" in a:
            kw["br_stp_state"] = 1 if a["stp"] else 0
        if "forward_delay" in a:
            kw["br_forward_delay"] = int(round(a["forward_delay"] * 100))
        if "priority" in a:
            kw["br_priority"] = a["priority"]
    elif kind == "macvlan":
        kw["macvlan_mode"] = a.get("mode", "bridge")
    elif kind == "ipvlan":
        kw["ipvlan_mode"] = {"l2": 0, "l3": 1, "l3s": 2}[a.get("mode", "l2")]
    elif kind == "vlan":
        kw["vlan_id"] = a["vlan_id"]
        kw["vlan_protocol"] = 0x88A8 if a.get("protocol") == "802.1ad" else 0x8100
    elif kind == "vxlan":
        kw["vxlan_id"] = a["vni"]
        kw["vxlan_port"] = a.get("port") or 4789
        for key in ("remote", "local", "group"):
            if a.get(key):  # the kernel keeps a unicast remote in IFLA_VXLAN_GROUP too (as iproute2 sends it)
                kw["vxlan_group" if key == "remote" else f"vxlan_{key}"] = a[key]
        if a.get("dev"):
            kw["vxlan_link"] = k.index(op.ns, a["dev"], "underlay device")
    elif kind == "geneve":
        kw.update(geneve_id=a["vni"], geneve_remote=a["remote"], geneve_port=a.get("port") or 6081)
    elif kind in ("ipip", "sit", "gre", "gretap"):
        prefix = "gre" if kind.startswith("gre") else kind
        kw.update({f"{prefix}_local": a["local"], f"{prefix}_remote": a["remote"], f"{prefix}_ttl": a.get("ttl", 64)})
    return kw


def link_add(k: Kernel, op: Op) -> Done:
    a = op.args
    name, kind = a["name"], a["kind"]
    existing = k.link(op.ns, name)
    if existing is not None:
        if kind_of(existing) == kind:
            return Done(False)
        raise AlreadyExists(f"{name!r} already exists in namespace {op.ns!r} as a {kind_of(existing)} device, not a {kind}",
                            hint=f"delete it with lab.delete({name!r}) or pick another name")
    if kind == "veth":
        peer_ns = a.get("peer_ns", op.ns)
        if not k.has_ns(peer_ns):
            raise NotFound(f"namespace {peer_ns!r} for the veth peer does not exist", hint=f"create it first: lab.netns({peer_ns!r})")
        if k.link(peer_ns, a["peer"]) is not None:
            raise AlreadyExists(f"the peer name {a['peer']!r} is taken in namespace {peer_ns!r}", hint="pick another peer name")
    if kind in ("veth", "bridge"):
        _fast_add(k, op)
    else:
        k.call(op, k.ipr(op.ns).link, "add", **_link_kwargs(k, op))
    return Done(True, [ops.link_del(op.ns, name)])


def _fast_add(k: Kernel, op: Op) -> None:
    """veth and bridge, the kinds a lab makes by the hundred, straight over raw netlink."""
    a = op.args
    reader = k.reader(op.ns)
    if a["kind"] == "bridge":
        delay = int(round(a["forward_delay"] * 100)) if "forward_delay" in a else None
        k.call(op, reader.new_link, a["name"], "bridge", bridge_data(a.get("stp"), delay, a.get("priority")))
        return
    peer_ns = a.get("peer_ns", op.ns)
    if peer_ns == op.ns:
        k.call(op, reader.new_link, a["name"], "veth", peer=a["peer"])
        return
    fd = os.open(nsutil.netns_path(k.netns(peer_ns)), os.O_RDONLY | os.O_CLOEXEC)
    try:
        k.call(op, reader.new_link, a["name"], "veth", peer=a["peer"], peer_netns_fd=fd)
    finally:
        os.close(fd)


def tuntap_add(k: Kernel, op: Op) -> Done:
    name, mode = op.args["name"], op.args["mode"]
    existing = k.link(op.ns, name)
    if existing is not None:
        if kind_of(existing) == mode:
            return Done(False)
        raise AlreadyExists(f"{name!r} already exists as a {kind_of(existing)} device", hint="delete it or pick another name")
    if not os.path.exists("/dev/net/tun"):
        raise NotFound("/dev/net/tun is missing", hint="load the tun module (modprobe tun) or use the VM target")
    flags = (IFF_TUN if mode == "tun" else IFF_TAP) | IFF_NO_PI

    def make() -> None:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
            if op.args.get("user"):
                import pwd

                fcntl.ioctl(fd, TUNSETOWNER, pwd.getpwnam(op.args["user"]).pw_uid)
            fcntl.ioctl(fd, TUNSETPERSIST, 1)
        finally:
            os.close(fd)

    try:
        nsutil.in_netns(k.netns(op.ns), make)
    except OSError as exc:
        raise StepFailed(f"`{op.command}` failed: {exc}", where=f"namespace {op.ns}") from None
    return Done(True, [ops.link_del(op.ns, name)])


def _recreate(k: Kernel, label: str, link: dict[str, Any]) -> list[Op]:
    """Ops that would make ``link`` again (kind, settings, addresses, master, up)."""
    name, kind = link["IFLA_IFNAME"], kind_of(link)
    data = _info_data(link)
    made: list[Op] = []
    if kind in ("tun", "tap"):
        made.append(ops.tuntap_add(label, name, kind))
    elif kind == "bridge":
        made.append(ops.link_add(label, name, "bridge", stp=bool(data.get("IFLA_BR_STP_STATE")),
                                 forward_delay=data.get("IFLA_BR_FORWARD_DELAY", 1500) / 100,
                                 priority=data.get("IFLA_BR_PRIORITY", 32768)))
    elif kind == "veth":
        peer = _veth_peer(k, label, link)
        if peer is None:
            return []
        made.append(ops.link_add(label, name, "veth", peer=peer[1], peer_ns=peer[0]))
    elif kind == "vxlan":
        made.append(ops.link_add(label, name, "vxlan", vni=data.get("IFLA_VXLAN_ID"), remote=data.get("IFLA_VXLAN_GROUP"),
                                 local=data.get("IFLA_VXLAN_LOCAL"), port=data.get("IFLA_VXLAN_PORT")))
    else:
        return []
    for addr in k.dump(label, "addrs"):
        if addr.get("index") == link["index"] and addr.get("IFA_ADDRESS") and addr.get("scope", 0) == 0:
            made.append(ops.addr_add(label, name, f"{addr.get('IFA_LOCAL') or addr['IFA_ADDRESS']}/{addr['prefixlen']}"))
    if link.get("IFLA_MASTER"):
        master = _name_of(k, label, link["IFLA_MASTER"])
        if master:
            made.append(ops.link_set(label, name, master=master))
    if link.get("flags", 0) & IFF_UP:
        made.append(ops.link_set(label, name, up=True))
    return made


def _name_of(k: Kernel, label: str, index: int) -> str | None:
    for link in k.dump(label, "links"):
        if link.get("index") == index:
            return str(link["IFLA_IFNAME"])
    return None


def _veth_peer(k: Kernel, label: str, link: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of a veth's other end, by matching each other's indices."""
    for other in k.labels():
        for cand in k.dump(other, "links"):
            if cand.get("index") == link.get("IFLA_LINK") and cand.get("IFLA_LINK") == link.get("index") \
                    and kind_of(cand) == "veth" and (other, cand.get("IFLA_IFNAME")) != (label, link.get("IFLA_IFNAME")):
                return other, str(cand["IFLA_IFNAME"])
    return None


def link_del(k: Kernel, op: Op) -> Done:
    link = k.link(op.ns, op.args["name"])
    if link is None:
        return Done(False)
    undo = _recreate(k, op.ns, link)
    k.call(op, k.reader(op.ns).del_link, link["index"])
    return Done(True, undo)


def link_set(k: Kernel, op: Op) -> Done:
    a = op.args
    name = a["name"]
    index = k.index(op.ns, name)
    link = k.link(op.ns, name) or {}
    sock = k.reader(op.ns)
    undo: list[Op] = []
    changed = False
    if "master" in a:
        old = _name_of(k, op.ns, link["IFLA_MASTER"]) if link.get("IFLA_MASTER") else None
        if old != a["master"]:
            if a["master"] is None:
                k.call(op, sock.set_link, index, master=0)
            else:
                master = k.index(op.ns, a["master"], "bridge")
                master_link = k.link(op.ns, a["master"]) or {}
                if kind_of(master_link) != "bridge":
                    raise InvalidInput(f"{a['master']!r} is a {kind_of(master_link)} device, not a bridge",
                                       where=f"namespace {op.ns}", hint="enslave into a bridge made with lab.bridge()")
                k.call(op, sock.set_link, index, master=master)
            undo.append(ops.link_set(op.ns, name, master=old))
            changed = True
    if "mtu" in a and link.get("IFLA_MTU") != a["mtu"]:
        k.call(op, sock.set_link, index, mtu=a["mtu"])
        undo.append(ops.link_set(op.ns, name, mtu=link.get("IFLA_MTU")))
        changed = True
    if "mac" in a and link.get("IFLA_ADDRESS") != a["mac"]:
        k.call(op, sock.set_link, index, mac=a["mac"])
        undo.append(ops.link_set(op.ns, name, mac=link.get("IFLA_ADDRESS")))
        changed = True
    if "up" in a and bool(link.get("flags", 0) & IFF_UP) != bool(a["up"]):
        k.call(op, sock.set_link, index, up=bool(a["up"]))
        undo.append(ops.link_set(op.ns, name, up=not a["up"]))
        changed = True
    if "netns" in a and a["netns"] != op.ns:
        target = a["netns"]
        if not k.has_ns(target):
            raise NotFound(f"namespace {target!r} does not exist", hint=f"create it first: lab.netns({target!r})")
        if k.link(target, name) is not None:
            raise AlreadyExists(f"namespace {target!r} already has a device called {name!r}", hint="rename or delete one of them")
        back = [ops.link_set(target, name, netns=op.ns)]
        back += [o for o in _recreate(k, op.ns, link) if o.action in ("addr_add", "link_set")]
        fd = os.open(nsutil.netns_path(k.netns(target)), os.O_RDONLY | os.O_CLOEXEC)
        try:
            k.call(op, sock.set_link, index, netns_fd=fd)
        finally:
            os.close(fd)
        undo = back + undo
        changed = True
    return Done(changed, list(reversed(undo)) if "netns" not in a else undo)


_BRIDGE_KEYS = {"stp": ("IFLA_BR_STP_STATE", "br_stp_state", 1), "forward_delay": ("IFLA_BR_FORWARD_DELAY", "br_forward_delay", 100),
                "priority": ("IFLA_BR_PRIORITY", "br_priority", 1), "hello_time": ("IFLA_BR_HELLO_TIME", "br_hello_time", 100),
                "max_age": ("IFLA_BR_MAX_AGE", "br_max_age", 100), "ageing_time": ("IFLA_BR_AGEING_TIME", "br_ageing_time", 100)}


def bridge_set(k: Kernel, op: Op) -> Done:
    name = op.args["name"]
    index = k.index(op.ns, name, "bridge")
    link = k.link(op.ns, name) or {}
    if kind_of(link) != "bridge":
        raise InvalidInput(f"{name!r} is a {kind_of(link)} device, not a bridge", where=f"namespace {op.ns}")
    data = _info_data(link)
    wanted: dict[str, Any] = {}
    old: dict[str, Any] = {}
    for key, value in op.args.items():
        if key not in _BRIDGE_KEYS:
            continue
        attr, kwarg, scale = _BRIDGE_KEYS[key]
        raw = (1 if value else 0) if key == "stp" else int(round(value * scale))
        if data.get(attr) != raw:
            wanted[kwarg] = raw
            current = data.get(attr, 0)
            old[key] = bool(current) if key == "stp" else current / scale
    if not wanted:
        return Done(False)
    k.call(op, k.ipr(op.ns).link, "set", index=index, kind="bridge", **wanted)
    return Done(True, [ops.bridge_set(op.ns, name, **old)])


def brport_set(k: Kernel, op: Op) -> Done:
    name = op.args["name"]
    index = k.index(op.ns, name, "bridge port")
    link = k.link(op.ns, name) or {}
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
    if not link.get("IFLA_MASTER"):
        raise InvalidInput(f"{name!r} is not a bridge port", where=f"namespace {op.ns}", hint=f"enslave it first: lab.enslave({name!r}, 'br0')")
    wanted = {key: op.args[key] for key in ("cost", "priority") if key in op.args and data.get(f"IFLA_BRPORT_{key.upper()}") != op.args[key]}
    if not wanted:
        return Done(False)
    old = {key: data.get(f"IFLA_BRPORT_{key.upper()}") for key in wanted}
    k.call(op, k.ipr(op.ns).brport, "set", index=index, **wanted)
    return Done(True, [ops.brport_set(op.ns, name, **old)])


EXECUTORS: dict[str, Callable[[Kernel, Op], Done]] = {
    "netns_add": netns_add, "netns_del": netns_del, "link_add": link_add, "tuntap_add": tuntap_add,
    "link_del": link_del, "link_set": link_set, "bridge_set": bridge_set, "brport_set": brport_set,
}
