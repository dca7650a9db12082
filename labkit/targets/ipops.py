"""Executors for address, route, neighbour, sysctl and nftables ops (run by the agent)."""

from __future__ import annotations

import errno
import functools
import ipaddress
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyroute2.netlink.exceptions import NetlinkError

from ..errors import InvalidInput, MissingTool, NotFound, StepFailed
from ..i18n import tr
from ..steps import ops
from ..steps.base import Op
from . import nsutil
from .done import Done
from .texts import api

if TYPE_CHECKING:
    from .kernel import Kernel

RT_TABLE_MAIN = 254
RTPROT_KERNEL, RTPROT_BOOT = 2, 3
NUD_NOARP, NUD_PERMANENT = 0x40, 0x80
_CONF_KEY = re.compile(r"^net\.ipv[46]\.(conf|neigh)\.([^.]+)\.")


def _addresses(k: Kernel, label: str, index: int) -> list[tuple[str, int]]:
    """(cidr, family) of the global addresses on device ``index``."""
    found = []
    for addr in k.dump(label, "addrs"):
        if addr.get("index") != index or addr.get("scope", 0) != 0:
            continue
        local = addr.get("IFA_LOCAL") or addr.get("IFA_ADDRESS")
        found.append((f"{local}/{addr['prefixlen']}", addr.get("family", 2)))
    return found


def _same(a: str, b: str) -> bool:
    return ipaddress.ip_interface(a) == ipaddress.ip_interface(b)


def addr_add(k: Kernel, op: Op) -> Done:
    dev, cidr = op.args["dev"], op.args["cidr"]
    index = k.index(op.ns, dev)
    if any(_same(cidr, have) for have, _ in _addresses(k, op.ns, index)):
        return Done(False)
    itf = ipaddress.ip_interface(cidr)
    k.call(op, k.reader(op.ns).address, True, index, str(itf.ip), itf.network.prefixlen)
    return Done(True, [ops.addr_del(op.ns, dev, cidr)])


def addr_del(k: Kernel, op: Op) -> Done:
    dev, cidr = op.args["dev"], op.args["cidr"]
    index = k.index(op.ns, dev)
    if not any(_same(cidr, have) for have, _ in _addresses(k, op.ns, index)):
        return Done(False)
    itf = ipaddress.ip_interface(cidr)
    k.call(op, k.reader(op.ns).address, False, index, str(itf.ip), itf.network.prefixlen)
    return Done(True, [ops.addr_add(op.ns, dev, cidr)])


def routes_via(k: Kernel, label: str, index: int) -> list[dict[str, Any]]:
    """Routes of the main table that leave through ``index`` and were added by someone
    (not the kernel's connected routes, which follow the addresses by themselves)."""
    found = []
    for route in k.dump(label, "routes"):
        if route.get("RTA_OIF") == index and route.get("proto") != RTPROT_KERNEL \
                and route.get("RTA_TABLE", route.get("table")) == RT_TABLE_MAIN and route.get("type") == 1:
            found.append(route)
    return found


def route_ops(label: str, dev: str, routes: list[dict[str, Any]]) -> list[Op]:
    """``ip route add`` ops that put ``routes`` (as :func:`routes_via` found them) back on ``dev``.

    Setting a device down, or deleting it, makes the kernel drop the routes through it;
    an undo of either brings them back with these."""
    return [ops.route_add(label, _route_text(r), r.get("RTA_GATEWAY"), dev) for r in routes]


def _route_spec(route: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"family": route.get("family", 2), "dst_len": route.get("dst_len", 0),
                            "proto": route.get("proto", RTPROT_BOOT)}  # a moved route keeps who made it
    for attr, key in (("RTA_DST", "dst"), ("RTA_GATEWAY", "gateway"), ("RTA_PRIORITY", "priority"), ("RTA_PREFSRC", "prefsrc")):
        if route.get(attr) is not None:
            spec[key] = route[attr]
    return spec


def move_ip(k: Kernel, op: Op) -> Done:
    src, dst, only = op.args["src"], op.args["dst"], op.args.get("cidrs")
    src_i, dst_i = k.index(op.ns, src), k.index(op.ns, dst)
    moving = [(c, f) for c, f in _addresses(k, op.ns, src_i) if not only or any(_same(c, o) for o in only)]
    if not moving:
        on_dst = [c for c, _ in _addresses(k, op.ns, dst_i)]
        if on_dst and (not only or all(any(_same(o, c) for c in on_dst) for o in only)):
            return Done(False)
        raise NotFound(tr("{src!r} has no IP address to move", src=src), where=tr("namespace {ns}", ns=op.ns),
                       hint=tr("give it one first: {call}", call=api("lab.addr", src, "20.1.0.10/24")))
    routes = routes_via(k, op.ns, src_i)
    if routes and not (k.link(op.ns, dst) or {}).get("flags", 0) & 0x1:
        raise InvalidInput(tr("{dst!r} is down, so the routes via {src!r} ({routes}) cannot move to it",
                              dst=dst, src=src, routes=", ".join(_route_text(r) for r in routes)),
                           where=tr("namespace {ns}", ns=op.ns), hint=tr("bring it up first: {call}", call=api("lab.up", dst)))
    sock, reader = k.ipr(op.ns), k.reader(op.ns)
    done: list[Callable[[], Any]] = []
    try:
        for route in routes:
            if _tolerant(k, op, errno.ESRCH, sock.route, "del", oif=src_i, **_route_spec(route)):
                done.append(functools.partial(sock.route, "add", oif=src_i, **_route_spec(route)))
        for cidr, _family in moving:
            itf = ipaddress.ip_interface(cidr)
            address, prefixlen = str(itf.ip), itf.network.prefixlen  # addresses: the raw writer, as addr_add (rtnl's rule)
            k.call(op, reader.address, False, src_i, address, prefixlen)
            done.append(functools.partial(reader.address, True, src_i, address, prefixlen))
            k.call(op, reader.address, True, dst_i, address, prefixlen)
            done.append(functools.partial(reader.address, False, dst_i, address, prefixlen))
        for route in routes:
            _tolerant(k, op, errno.EEXIST, sock.route, "add", oif=dst_i, **_route_spec(route))
    except Exception:
        for undo in reversed(done):
            try:
                undo()
            except Exception:
                continue
        raise
    text = [ops.route_del(op.ns, _route_text(r), r.get("RTA_GATEWAY"), src).command for r in routes]
    for cidr, _family in moving:
        text += [ops.addr_del(op.ns, src, cidr).command, ops.addr_add(op.ns, dst, cidr).command]
    text += [ops.route_add(op.ns, _route_text(r), r.get("RTA_GATEWAY"), dst).command for r in routes]
    return Done(True, [ops.move_ip(op.ns, dst, src, [c for c, _ in moving])], text)


def _tolerant(k: Kernel, op: Op, code: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Run one request; False (not an error) when the kernel answers ``code``.

    Removing an address also removes the routes that depend on it (a DHCP client's
    subnet route, say), and the kernel re-creates connected routes by itself, so
    while moving addresses a route may already be gone or already be there."""
    try:
        fn(*args, **kwargs)
    except NetlinkError as exc:
        if exc.code == code:
            return False
        raise k.explain(op, exc.code, str(exc)) from None
    return True


def _route_text(route: dict[str, Any]) -> str:
    return f"{route['RTA_DST']}/{route.get('dst_len', 0)}" if route.get("RTA_DST") else "default"


def _route_kwargs(k: Kernel, op: Op) -> dict[str, Any]:
    a = op.args
    kw: dict[str, Any] = {}
    family = 2
    if a["dst"] != "default":
        net = ipaddress.ip_network(a["dst"])
        kw["dst"], kw["dst_len"], family = str(net.network_address), net.prefixlen, (net.version == 6 and 10) or 2
    if a.get("gateway"):
        kw["gateway"] = a["gateway"]
        family = 10 if ipaddress.ip_address(a["gateway"]).version == 6 else family
    if a.get("dev"):
        kw["oif"] = k.index(op.ns, a["dev"])
    kw["family"] = family
    kw["proto"] = RTPROT_BOOT  # what `ip route add` sets: the route looks the same whoever made it
    return kw


def _route_exists(k: Kernel, label: str, kw: dict[str, Any]) -> bool:
    for route in k.dump(label, "routes"):
        if route.get("RTA_TABLE", route.get("table")) != RT_TABLE_MAIN or route.get("family") != kw["family"]:
            continue
        if route.get("dst_len", 0) == kw.get("dst_len", 0) and route.get("RTA_DST") == kw.get("dst") \
                and route.get("RTA_GATEWAY") == kw.get("gateway") and ("oif" not in kw or route.get("RTA_OIF") == kw["oif"]):
            return True
    return False


def route_add(k: Kernel, op: Op) -> Done:
    kw = _route_kwargs(k, op)
    if _route_exists(k, op.ns, kw):
        return Done(False)
    k.call(op, k.ipr(op.ns).route, "add", **kw)
    return Done(True, [ops.route_del(op.ns, op.args["dst"], op.args.get("gateway"), op.args.get("dev"))])


def route_del(k: Kernel, op: Op) -> Done:
    kw = _route_kwargs(k, op)
    if not _route_exists(k, op.ns, kw):
        return Done(False)
    k.call(op, k.ipr(op.ns).route, "del", **kw)
    return Done(True, [ops.route_add(op.ns, op.args["dst"], op.args.get("gateway"), op.args.get("dev"))])


def sysctl(k: Kernel, op: Op) -> Done:
    key, value = op.args["key"], str(op.args["value"])
    match = _CONF_KEY.match(key)
    if match and match.group(2) not in ("all", "default"):
        k.index(op.ns, match.group(2))
    k.ipr(op.ns)  # the namespace must exist
    try:
        old = nsutil.write_sysctl(k.netns(op.ns), key, value)
    except FileNotFoundError:
        raise NotFound(tr("sysctl {key} does not exist on this kernel", key=key), where=tr("namespace {ns}", ns=op.ns),
                       hint=tr("check the key (sysctl -a | grep ...)")) from None
    except OSError as exc:
        raise StepFailed(tr("`{command}` failed: {error}", command=op.command, error=str(exc)),
                         where=tr("namespace {ns}", ns=op.ns)) from None
    if old == value:
        return Done(False)
    return Done(True, [ops.sysctl(op.ns, key, old)])


def neigh_flush(k: Kernel, op: Op) -> Done:
    index = k.index(op.ns, op.args["dev"]) if op.args.get("dev") else None
    sock = k.ipr(op.ns)
    changed = False
    for entry in k.dump(op.ns, "neigh"):
        if entry.get("state", 0) & (NUD_NOARP | NUD_PERMANENT) or not entry.get("NDA_DST"):
            continue
        if index is not None and entry.get("ifindex") != index:
            continue
        try:
            sock.neigh("del", dst=entry["NDA_DST"], ifindex=entry["ifindex"], family=entry.get("family", 2))
            changed = True
        except Exception:
            continue
    return Done(changed)


def _nft(k: Kernel, op: Op, script: str) -> None:
    if shutil.which("nft") is None:
        raise MissingTool(tr("nft (nftables) is not installed"), hint=tr("apt-get install nftables"))
    k.ipr(op.ns)
    result = subprocess.run(["ip", "netns", "exec", k.netns(op.ns), "nft", "-f", "-"], input=script,
                            capture_output=True, text=True, timeout=20, check=False)
    if result.returncode != 0:
        raise StepFailed(tr("nft failed: {error}", error=result.stderr.strip()), where=tr("namespace {ns}", ns=op.ns),
                         hint=tr("check the ruleset"))


def nft_apply(k: Kernel, op: Op) -> Done:
    table, script = op.args["table"], op.args["script"]
    family = script.split()[1] if script.startswith("table ") else "ip"
    _nft(k, op, f"table {family} {table}\ndelete table {family} {table}\n{script}")
    return Done(True, [ops.nft_delete(op.ns, table, family)])


def nft_delete(k: Kernel, op: Op) -> Done:
    family, table = op.args.get("family", "ip"), op.args["table"]
    _nft(k, op, f"table {family} {table}\ndelete table {family} {table}\n")
    return Done(True)


EXECUTORS: dict[str, Callable[[Kernel, Op], Done]] = {
    "addr_add": addr_add, "addr_del": addr_del, "move_ip": move_ip, "route_add": route_add, "route_del": route_del,
    "sysctl": sysctl, "neigh_flush": neigh_flush, "nft_apply": nft_apply, "nft_delete": nft_delete,
}
