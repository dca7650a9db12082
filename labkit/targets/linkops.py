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

from .. import kinds
from ..errors import AlreadyExists, InvalidInput, NotFound, StepFailed, WrongNamespace
from ..i18n import joined, tr
from ..kinds.tuntap import IFF_NO_PI, IFF_TAP, IFF_TUN, TUNSETIFF, TUNSETOWNER, TUNSETPERSIST
from ..steps import ops
from ..steps.base import Op
from . import nsutil
from .collect import nsids
from .done import Done
from .ipops import route_ops, routes_via
from .rtnl import info_data
from .texts import api
from .tunfile import open_tun

if TYPE_CHECKING:
    from .kernel import Kernel

IFF_UP = 0x1


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


def _settings(op: Op) -> dict[str, Any]:
    """The kind's own settings in a ``link_add`` op (not its name, kind, parent or veth peer)."""
    return {key: value for key, value in op.args.items() if key not in ("name", "kind", *ops.DEVICE_KEYS)}


def _is_the_same(k: Kernel, op: Op, existing: dict[str, Any]) -> list[str]:
    """What differs between the device asked for and the one the kernel has (empty: "already so")."""
    a, kind = op.args, kinds.get(op.args["kind"])
    found = kind.differences(_settings(op), _info_data(existing), lambda dev: _index_or_none(k, op.ns, dev))
    if a.get("link"):
        parent = _index_or_none(k, op.ns, a["link"])
        if existing.get("IFLA_LINK") != parent:
            have = _name_of(k, op.ns, existing["IFLA_LINK"]) if existing.get("IFLA_LINK") else None
            found.append(tr("parent {link!r} (the device's parent is {have})", link=a["link"], have=have or tr("another device")))
    if a["kind"] == "veth":
        peer = _veth_peer(k, op.ns, existing)
        if peer != (a.get("peer_ns", op.ns), a["peer"]):
            where = tr("{name} in {ns}", name=peer[1], ns=peer[0]) if peer else tr("unknown")
            found.append(tr("peer {peer!r} in {ns} (the device's peer is {where})", peer=a["peer"], ns=a.get("peer_ns", op.ns),
                            where=where))
    return found


def _index_or_none(k: Kernel, label: str, name: str) -> int | None:
    link = k.link(label, name)
    return int(link["index"]) if link is not None else None


def link_add(k: Kernel, op: Op) -> Done:
    """``ip link add`` of any kind, packed from the kind's declaration (labkit/kinds/) over raw netlink."""
    a = op.args
    name, kind = a["name"], a["kind"]
    existing = k.link(op.ns, name)
    if existing is not None:
        if kind_of(existing) != kind:
            raise AlreadyExists(tr("{name!r} already exists in namespace {ns!r} as a {have} device, not a {kind}",
                                   name=name, ns=op.ns, have=kind_of(existing), kind=kind),
                                hint=tr("delete it with {call} or pick another name", call=api("lab.delete", name)))
        differences = _is_the_same(k, op, existing)
        if differences:
            raise AlreadyExists(tr("{kind} {name!r} already exists in namespace {ns!r} with other settings: {differences}",
                                   kind=kind, name=name, ns=op.ns, differences=joined(differences)),
                                hint=tr("change it with the step for that setting, or {call} and create it again",
                                        call=api("lab.delete", name)))
        return Done(False)
    reader = k.reader(op.ns)
    parent = k.index(op.ns, a["link"], tr("parent device")) if a.get("link") else None
    data = info_data(kinds.get(kind).info_data(_settings(op), lambda dev: k.index(op.ns, dev, tr("underlay device"))))
    macs = {"address": a.get("address"), "peer_address": a.get("peer_address")}
    if kind != "veth":
        k.call(op, reader.new_link, name, kinds.get(kind).info_kind, data, link=parent, address=macs["address"])
        return Done(True, [ops.link_del(op.ns, name)])
    peer_ns = a.get("peer_ns", op.ns)
    if not k.has_ns(peer_ns):
        raise NotFound(tr("namespace {ns!r} for the veth peer does not exist", ns=peer_ns),
                       hint=tr("create it first: {call}", call=api("lab.netns", peer_ns)))
    if k.link(peer_ns, a["peer"]) is not None:
        raise AlreadyExists(tr("the peer name {peer!r} is taken in namespace {ns!r}", peer=a["peer"], ns=peer_ns),
                            hint=tr("pick another peer name"))
    if peer_ns == op.ns:
        k.call(op, reader.new_link, name, "veth", data, peer=a["peer"], **macs)
    else:
        fd = os.open(nsutil.netns_path(k.netns(peer_ns)), os.O_RDONLY | os.O_CLOEXEC)
        try:
            k.call(op, reader.new_link, name, "veth", data, peer=a["peer"], peer_netns_fd=fd, **macs)
        finally:
            os.close(fd)
    return Done(True, [ops.link_del(op.ns, name)])


def tuntap_add(k: Kernel, op: Op) -> Done:
    name, mode = op.args["name"], op.args["mode"]
    existing = k.link(op.ns, name)
    if existing is not None:
        if kind_of(existing) == mode:
            return Done(False)
        raise AlreadyExists(tr("{name!r} already exists as a {kind} device", name=name, kind=kind_of(existing)),
                            hint=tr("delete it or pick another name"))
    flags = (IFF_TUN if mode == "tun" else IFF_TAP) | IFF_NO_PI
    uid = 0
    if op.args.get("user"):
        import pwd

        try:
            uid = pwd.getpwnam(op.args["user"]).pw_uid
        except KeyError:
            raise NotFound(tr("user {user!r} does not exist on the target", user=op.args["user"]), where=tr("namespace {ns}", ns=op.ns),
                           hint=tr("name a user of this machine (see /etc/passwd), or leave user= out")) from None

    def make() -> None:
        fd = open_tun()  # a missing or forbidden /dev/net/tun raises the error that says which, and the fix
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), flags))
            if op.args.get("user"):
                fcntl.ioctl(fd, TUNSETOWNER, uid)
            fcntl.ioctl(fd, TUNSETPERSIST, 1)
        finally:
            os.close(fd)

    try:
        nsutil.in_netns(k.netns(op.ns), make)
    except OSError as exc:
        raise StepFailed(tr("`{command}` failed: {error}", command=op.command, error=str(exc)),
                         where=tr("namespace {ns}", ns=op.ns)) from None
    return Done(True, [ops.link_del(op.ns, name)])


def _recreate(k: Kernel, label: str, link: dict[str, Any]) -> list[Op]:
    """Ops that would make ``link`` again as it is now: its kind and settings (from the kind's
    declaration), its parent or veth peer, addresses, master, up, and the routes through it."""
    name, kind_name = link["IFLA_IFNAME"], kind_of(link)
    kind = kinds.KINDS.get(kind_name)
    if kind is None:
        return []
    made: list[Op] = []
    if kind.created_by == "tuntap_add":
        owner = _info_data(link).get("IFLA_TUN_OWNER")
        made.append(ops.tuntap_add(label, name, kind_name, _user_name(owner)))
    else:
        extra: dict[str, Any] = {}
        peer: tuple[str, str] | None = None
        if kind.parent:
            parent = _name_of(k, label, link["IFLA_LINK"]) if link.get("IFLA_LINK") else None
            if parent is None:
                return []
            extra["link"] = parent
        if kind_name == "veth":
            peer = _veth_peer(k, label, link)
            if peer is None:
                return []
            extra.update(peer=peer[1], peer_ns=peer[0])
            peer_mac = next((p.get("IFLA_ADDRESS") for p in k.dump(peer[0], "links") if p.get("IFLA_IFNAME") == peer[1]), None)
            if peer_mac:
                extra["peer_address"] = peer_mac
        if kind.own_mac and link.get("IFLA_ADDRESS"):  # made again with the MAC it had (some drivers cannot change it later)
            extra["address"] = link["IFLA_ADDRESS"]
        settings = kind.settings_of(_info_data(link), lambda index: _name_of(k, label, index))
        made.append(ops.link_add(label, name, kind_name, **extra, **settings))
        if peer is not None:  # a veth's peer goes with it: its addresses, master and state come back too
            made += _restore(k, peer[0], next(p for p in k.dump(peer[0], "links") if p.get("IFLA_IFNAME") == peer[1]))
    made += _restore(k, label, link)
    for child in _dependents(k, label, link):  # children the kernel removes with their parent come back after it
        made += _recreate(k, label, child)
    return made


def _restore(k: Kernel, label: str, link: dict[str, Any]) -> list[Op]:
    """What a device carries besides its kind: its MTU and MAC, addresses, its place on a bridge (with the
    port's cost and priority), a bridge's own ports, up, and the routes through it."""
    name, kind = link["IFLA_IFNAME"], kind_of(link)
    made: list[Op] = []
    if link.get("IFLA_MTU"):
        made.append(ops.link_set(label, name, mtu=link["IFLA_MTU"]))
    if kind == "tap" and link.get("IFLA_ADDRESS"):  # a tap is made by an ioctl, without a MAC: set it after
        made.append(ops.link_set(label, name, mac=link["IFLA_ADDRESS"]))
    for addr in k.dump(label, "addrs"):
        if addr.get("index") == link["index"] and addr.get("IFA_ADDRESS") and addr.get("scope", 0) == 0:
            made.append(ops.addr_add(label, name, f"{addr.get('IFA_LOCAL') or addr['IFA_ADDRESS']}/{addr['prefixlen']}"))
    if link.get("IFLA_MASTER"):
        master = _name_of(k, label, link["IFLA_MASTER"])
        if master:
            made += _port_ops(label, name, master, link)
    if kind == "bridge":
        for port in k.dump(label, "links"):
            if port.get("IFLA_MASTER") == link["index"]:
                made += _port_ops(label, str(port["IFLA_IFNAME"]), name, port)
    if link.get("flags", 0) & IFF_UP:
        made.append(ops.link_set(label, name, up=True))
        made += route_ops(label, name, routes_via(k, label, link["index"]))
    return made


def _port_ops(label: str, port: str, bridge: str, link: dict[str, Any]) -> list[Op]:
    """``port`` back on ``bridge``, with the STP cost and priority it had."""
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
    settings = {key: data[attr] for key, attr in (("cost", "IFLA_BRPORT_COST"), ("priority", "IFLA_BRPORT_PRIORITY"))
                if data.get(attr) is not None}
    return [ops.link_set(label, port, master=bridge)] + ([ops.brport_set(label, port, **settings)] if settings else [])


def _dependents(k: Kernel, label: str, link: dict[str, Any]) -> list[dict[str, Any]]:
    """Devices the kernel deletes with ``link``: its macvlan/ipvlan/vlan children and the VXLANs bound to it."""
    found = []
    for other in k.dump(label, "links"):
        kind = kinds.KINDS.get(kind_of(other))
        if other.get("index") == link.get("index") or kind is None:
            continue
        if (kind.parent and other.get("IFLA_LINK") == link["index"]) or \
                (kind.name == "vxlan" and _info_data(other).get("IFLA_VXLAN_LINK") == link["index"]):
            found.append(other)
    return found


def _user_name(uid: Any) -> str | None:
    """The user name of a tun/tap owner's uid (None: no owner, or a uid with no name here)."""
    if uid is None or uid == 0xFFFFFFFF:
        return None
    import pwd

    try:
        return pwd.getpwuid(int(uid)).pw_name
    except KeyError:
        return None


def _name_of(k: Kernel, label: str, index: int) -> str | None:
    for link in k.dump(label, "links"):
        if link.get("index") == index:
            return str(link["IFLA_IFNAME"])
    return None


def _veth_peer(k: Kernel, label: str, link: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of a veth's other end: ``IFLA_LINK`` is its index in the namespace that
    ``IFLA_LINK_NETNSID`` names (absent: this one); indexes alone repeat across namespaces."""
    index = link.get("IFLA_LINK")
    if not index:
        return None
    where: str | None = label
    if link.get("IFLA_LINK_NETNSID") is not None:
        where = nsids(k, label, k.labels()).get(str(link["IFLA_LINK_NETNSID"]))
    if where is None:
        return None
    for cand in k.dump(where, "links"):
        if cand.get("index") == index and kind_of(cand) == "veth":
            return where, str(cand["IFLA_IFNAME"])
    return None


def link_del(k: Kernel, op: Op) -> Done:
    link = k.link(op.ns, op.args["name"])
    if link is None:
        name = op.args["name"]
        elsewhere = [other for other in k.labels() if other != op.ns and k.link(other, name) is not None]
        if elsewhere:  # "already so" would be a lie: the device is there, in another namespace of the lab
            raise WrongNamespace(tr("{name!r} is not in namespace {ns!r}; it is in {elsewhere}",
                                    name=name, ns=op.ns, elsewhere=", ".join(elsewhere)),
                                 hint=tr("pass {arg} to delete it there", arg="ns=" + repr(elsewhere[0])))
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
                master = k.index(op.ns, a["master"], tr("bridge"))
                master_link = k.link(op.ns, a["master"]) or {}
                if kind_of(master_link) != "bridge":
                    raise InvalidInput(tr("{name!r} is a {kind} device, not a bridge", name=a["master"], kind=kind_of(master_link)),
                                       where=tr("namespace {ns}", ns=op.ns), hint=tr("enslave into a bridge made with lab.bridge()"))
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
        dropped = [] if a["up"] else routes_via(k, op.ns, index)  # down: the kernel drops the routes through it
        k.call(op, sock.set_link, index, up=bool(a["up"]))
        undo += route_ops(op.ns, name, dropped)  # (the list is reversed below: up first, then the routes)
        undo.append(ops.link_set(op.ns, name, up=not a["up"]))
        changed = True
    if "netns" in a and a["netns"] != op.ns:
        target = a["netns"]
        if not k.has_ns(target):
            raise NotFound(tr("namespace {ns!r} does not exist", ns=target), hint=tr("create it first: {call}", call=api("lab.netns", target)))
        if k.link(target, name) is not None:
            raise AlreadyExists(tr("namespace {ns!r} already has a device called {name!r}", ns=target, name=name),
                                hint=tr("rename or delete one of them"))
        back = [ops.link_set(target, name, netns=op.ns)]
        back += _restore(k, op.ns, link)  # moving drops its addresses, master, state and routes: all come back
        fd = os.open(nsutil.netns_path(k.netns(target)), os.O_RDONLY | os.O_CLOEXEC)
        try:
            k.call(op, sock.set_link, index, netns_fd=fd)
        finally:
            os.close(fd)
        undo = back + undo
        changed = True
    return Done(changed, list(reversed(undo)) if "netns" not in a else undo)


def bridge_set(k: Kernel, op: Op) -> Done:
    """``ip link set BR type bridge …``: only the settings that differ are sent, encoded from the bridge's declaration."""
    name = op.args["name"]
    index = k.index(op.ns, name, tr("bridge"))
    link = k.link(op.ns, name) or {}
    if kind_of(link) != "bridge":
        raise InvalidInput(tr("{name!r} is a {kind} device, not a bridge", name=name, kind=kind_of(link)), where=tr("namespace {ns}", ns=op.ns))
    bridge = kinds.get("bridge")
    data = _info_data(link)
    wanted = {key: value for key, value in op.args.items() if key != "name"}
    differ = {p.name for p in bridge.settable if p.name in wanted
              and data.get(p.attr) != p.to_kernel(wanted[p.name])}
    if not differ:
        return Done(False)
    change = {key: wanted[key] for key in differ}
    old = {key: value for key, value in bridge.settings_of(data).items() if key in differ}
    k.call(op, k.reader(op.ns).set_link, index, bridge=info_data(bridge.info_data(change, lambda dev: 0)))
    return Done(True, [ops.bridge_set(op.ns, name, **old)])


def brport_set(k: Kernel, op: Op) -> Done:
    name = op.args["name"]
    index = k.index(op.ns, name, tr("bridge port"))
    link = k.link(op.ns, name) or {}
    data = (link.get("IFLA_LINKINFO") or {}).get("IFLA_INFO_SLAVE_DATA") or {}
    if not link.get("IFLA_MASTER"):
        raise InvalidInput(tr("{name!r} is not a bridge port", name=name), where=tr("namespace {ns}", ns=op.ns),
                           hint=tr("enslave it first: {call}", call=api("lab.enslave", name, "br0")))
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
