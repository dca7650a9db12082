"""Self-checks: read the kernel, compare with what the exercise asks, give a hint.

Every check reads the live state (a fresh snapshot, or a real ping inside the lab),
so a wrong state fails it. A passing check returns a :class:`CheckResult` that a
notebook shows as a green line; a failing one raises :class:`CheckFailed` whose
message says what was found and whose hint says what to try.

    lab.check.reachable("h1", "h2")
    lab.check.port_state("sw2/p1", "blocking")
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .diagnose import bridge_id_text, stp_bridges, unreachable_causes, winning_priority
from .errors import CheckFailed
from .i18n import joined, localize, tr
from .model import Interface, Snapshot
from .names import split_ref

if TYPE_CHECKING:
    from .lab import Lab


@dataclass(frozen=True)
class CheckResult:
    """A passed check: what was verified."""

    message: str

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"✔ {localize(self.message)}"

    def _repr_html_(self) -> str:
        from .ipython import line_box

        return line_box(True, html.escape(localize(self.message)), "labkit-check-ok")


def _split(ref: str, default_ns: str = "main") -> tuple[str, str]:
    """'h1/eth0' → ('h1', 'eth0'); 'eth0' → ('main', 'eth0') (:func:`labkit.names.split_ref`, checked)."""
    return split_ref(ref, default_ns)


class Checks:
    """The self-checks of one lab (``lab.check``)."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    # -- helpers ------------------------------------------------------------------
    def _interface(self, snap: Snapshot, ref: str, hint: str = "") -> Interface:
        ns, name = _split(ref)
        itf = snap.interface(name, ns)
        if itf is None:
            elsewhere = [i.namespace for i in snap.find(name)]
            what = (tr("there is no device {name!r} in namespace {ns!r}; it is in {elsewhere}", name=name, ns=ns,
                       elsewhere=", ".join(elsewhere)) if elsewhere
                    else tr("there is no device {name!r} in namespace {ns!r}", name=name, ns=ns))
            raise CheckFailed(what, hint=hint or tr("create it first (its name must be exactly {name!r})", name=name))
        return itf

    def address_of(self, ns: str) -> str:
        """The first global IPv4 address in namespace ``ns`` (not lo)."""
        for itf in self.lab.snapshot().in_namespace(ns):
            for cidr in itf.addresses:
                if itf.kind != "loopback" and ":" not in cidr:
                    return cidr.split("/")[0]
        raise CheckFailed(tr("namespace {ns!r} has no IPv4 address", ns=ns),
                          hint=tr("give one of its devices an address with lab.addr()"))

    def _target(self, dst: str) -> str:
        return dst if (any(ch.isdigit() for ch in dst.split(".")[0]) and "." in dst) or ":" in dst else self.address_of(dst)

    # -- checks -------------------------------------------------------------------
    def reachable(self, src: str, dst: str, iface: str | None = None, count: int = 2, hint: str = "") -> CheckResult:
        """``dst`` (an IP or a namespace) answers a ping from namespace ``src``.

        When it does not, the hint names what the snapshot shows in the way (a device that is
        down, an address left on a bridge port, no route), before any generic advice."""
        address = self._target(dst)
        via = tr(" via {iface}", iface=iface) if iface else ""
        if self.lab.ping(address, ns=src, count=count, iface=iface, timeout=2):
            if address != dst:
                return CheckResult(tr("{src} reaches {dst} ({address}){via}", src=src, dst=dst, address=address, via=via))
            return CheckResult(tr("{src} reaches {dst}{via}", src=src, dst=dst, via=via))
        causes = unreachable_causes(self.lab.snapshot(), src, address)
        seen = tr("the lab shows: {causes}", causes=joined(causes)) if causes else ""
        what = (tr("{src} cannot reach {dst} ({address}){via}", src=src, dst=dst, address=address, via=via) if address != dst
                else tr("{src} cannot reach {dst}{via}", src=src, dst=dst, via=via))
        raise CheckFailed(what, hint=joined([hint, seen], ". ") if hint or seen else
                          tr("check addresses (same subnet?), that every device on the way is up, and the routes"))

    def unreachable(self, src: str, dst: str, iface: str | None = None, hint: str = "") -> CheckResult:
        """``dst`` does NOT answer a ping from ``src`` (neighbours are flushed first, so a
        cached ARP entry cannot make a broken path look fine). Only "no reply" (ping's exit
        status 1) passes: a ping that could not even be sent (exit 2: a misspelled device,
        an unknown host) proves nothing and fails the check."""
        address = self._target(dst)
        from .steps import neigh_flush

        self.lab.target.client.apply([op.to_dict() for op in neigh_flush(ns=src).ops])  # not a learner's step
        argv = ["ping", "-n", "-c", "1", "-W", "1", *(["-I", iface] if iface else []), address]
        result = self.lab.run(*argv, ns=src, timeout=10)
        via = tr(" via {iface}", iface=iface) if iface else ""
        if result.returncode == 1:
            if address == dst:
                return CheckResult(tr("{src} cannot reach {dst}{via}, as expected", src=src, dst=dst, via=via))
            return CheckResult(tr("{src} cannot reach {dst} ({address}){via}, as expected", src=src, dst=dst, address=address, via=via))
        if result.returncode == 0:
            raise CheckFailed(tr("{src} still reaches {dst} ({address}){via}", src=src, dst=dst, address=address, via=via),
                              hint=hint or tr("the exercise expects this path to be broken"))
        last = (result.stderr or result.stdout).strip().splitlines()[-1:]
        why = last[0] if last else tr("exit status {code}", code=result.returncode)
        raise CheckFailed(tr("could not ping {dst} ({address}) from {src}{via}: `{command}` exited with {code}: {why}", dst=dst,
                             address=address, src=src, via=via, command=" ".join(argv), code=result.returncode, why=why),
                          hint=tr("that is not 'no reply': check the device name and the address given to the check"))

    def exists(self, ref: str, kind: str | None = None, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if kind and itf.kind != kind:
            raise CheckFailed(tr("{ref} is a {found} device, not a {kind}", ref=ref, found=itf.kind, kind=kind),
                              hint=hint or tr("delete it and create a {kind}", kind=kind))
        return CheckResult(tr("{ref} exists as a {kind}", ref=ref, kind=kind) if kind else tr("{ref} exists", ref=ref))

    def absent(self, ref: str, hint: str = "") -> CheckResult:
        ns, name = _split(ref)
        if self.lab.snapshot().interface(name, ns) is not None:
            raise CheckFailed(tr("{ref} still exists", ref=ref), hint=hint or tr("delete it with lab.delete({name!r}, ns={ns!r})", name=name, ns=ns))
        return CheckResult(tr("{ref} is gone", ref=ref))

    def is_up(self, ref: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if not itf.is_up:
            raise CheckFailed(tr("{ref} is down", ref=ref),
                              hint=hint or tr("bring it up: lab.up({name!r}, ns={ns!r})", name=itf.name, ns=itf.namespace))
        return CheckResult(tr("{ref} is up ({state})", ref=ref, state=itf.state))

    def has_address(self, ref: str, cidr: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if cidr not in itf.addresses:
            owner = [i.key for i in self.lab.snapshot().interfaces if cidr in i.addresses]
            has = ", ".join(itf.addresses) or tr("no address")
            what = (tr("{ref} does not have {cidr} (it has {has}); it is on {owner}", ref=ref, cidr=cidr, has=has, owner=", ".join(owner))
                    if owner else tr("{ref} does not have {cidr} (it has {has})", ref=ref, cidr=cidr, has=has))
            raise CheckFailed(what, hint=hint or tr("lab.addr({name!r}, {cidr!r}) or lab.move_ip(...)", name=itf.name, cidr=cidr))
        return CheckResult(tr("{ref} has {cidr}", ref=ref, cidr=cidr))

    def address_in(self, ref: str, low: str, high: str | None = None, hint: str = "") -> CheckResult:
        """``ref`` has an IPv4 address inside network ``low`` ('10.0.0.0/24'), or between the
        addresses ``low`` and ``high`` (a DHCP range: '10.0.0.10', '10.0.0.100')."""
        import ipaddress

        itf = self._interface(self.lab.snapshot(), ref, hint)
        found = [ipaddress.IPv4Interface(a).ip for a in itf.addresses if ":" not in a]
        if high is None:
            net = ipaddress.ip_network(low, strict=False)
            inside, wanted = [a for a in found if a in net], str(net)
        else:
            first, last = ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)
            inside, wanted = [a for a in found if first <= a <= last], f"{low} – {high}"
        if not inside:
            raise CheckFailed(tr("{ref} has no address in {wanted} (it has {has})", ref=ref, wanted=wanted,
                                 has=", ".join(itf.addresses) or tr("no address")),
                              hint=hint or tr("did its DHCP client get a lease? is the server's range the one you meant?"))
        return CheckResult(tr("{ref} has {address}, inside {wanted}", ref=ref, address=str(inside[0]), wanted=wanted))

    def no_address(self, ref: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        v4 = [a for a in itf.addresses if ":" not in a]
        if v4:
            raise CheckFailed(tr("{ref} still has {addresses}", ref=ref, addresses=", ".join(v4)),
                              hint=hint or tr("a bridge port should carry no IP: move it to the bridge"))
        return CheckResult(tr("{ref} carries no IPv4 address", ref=ref))

    def is_port_of(self, ref: str, bridge: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.master != bridge:
            raise CheckFailed(tr("{ref} is not a port of {bridge} (its master is {master})", ref=ref, bridge=bridge,
                                 master=itf.master or tr("none")),
                              hint=hint or tr("lab.enslave({name!r}, {bridge!r}, ns={ns!r})", name=itf.name, bridge=bridge, ns=itf.namespace))
        return CheckResult(tr("{ref} is a port of {bridge}", ref=ref, bridge=bridge))

    def port_state(self, ref: str, state: str, hint: str = "") -> CheckResult:
        """A bridge port's STP state: forwarding, blocking, listening, learning or disabled."""
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.stp_state != state:
            raise CheckFailed(tr("port {ref} is {found}, not {state}", ref=ref, found=itf.stp_state or tr("not a bridge port"), state=state),
                              hint=hint or tr("STP decides this: compare bridge ids (priority, MAC) and path costs"))
        return CheckResult(tr("port {ref} is {state}", ref=ref, state=state))

    def root_bridge(self, ref: str, hint: str = "") -> CheckResult:
        """``ref`` (a bridge) is the STP root: STP is on, its root id is its own bridge id, and
        every other STP bridge of the lab names it as root (so the election is over).

        With STP off every bridge calls itself root, which proves nothing; the hint names a
        priority that wins outright (one that ties would leave it to the MACs)."""
        snap = self.lab.snapshot()
        itf = self._interface(snap, ref, hint)
        if itf.kind != "bridge":
            raise CheckFailed(tr("{ref} is a {found} device, not a bridge", ref=ref, found=itf.kind),
                              hint=hint or tr("name the bridge, e.g. 'sw1/br0'"))
        if not itf.detail("stp"):
            raise CheckFailed(tr("STP is off on {ref}, so it elects nothing (a bridge without STP calls itself root)", ref=ref),
                              hint=hint or tr("turn it on: lab.stp({name!r}, on=True, ns={ns!r})", name=itf.name, ns=itf.namespace))
        root, own = itf.detail("root_id"), itf.detail("bridge_id")
        winning = winning_priority(snap, itf)
        how = (tr("lower its priority below every other bridge's: lab.stp({name!r}, priority={winning}, ns={ns!r})",
                  name=itf.name, winning=winning, ns=itf.namespace)
               if winning is not None else tr("every other bridge already has priority 0: the lowest MAC decides"))
        if root is None or root != own:
            raise CheckFailed(tr("{ref} is not the root bridge: the root is {root}, {ref} is {own}", ref=ref,
                                 root=bridge_id_text(root), own=bridge_id_text(own)),
                              hint=hint or tr("the lowest bridge id wins, priority first, MAC second; {how}", how=how))
        others = [b for b in stp_bridges(snap) if b.key != itf.key and b.detail("root_id") != own]
        if others:
            listed = joined([tr("{bridge} (root {root})", bridge=b.key, root=bridge_id_text(b.detail("root_id"))) for b in others], ", ")
            raise CheckFailed(tr("{ref} calls itself root, but not every bridge agrees yet: {listed}", ref=ref, listed=listed),
                              hint=hint or tr("the election takes a few hello times: lab.wait_stp(...) and check again; "
                                              "a bridge that is not connected to the others elects itself"))
        return CheckResult(tr("{ref} is the root bridge ({own}), and every STP bridge agrees", ref=ref, own=bridge_id_text(own)))

    def mtu(self, ref: str, value: int, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.mtu != value:
            raise CheckFailed(tr("{ref} has MTU {mtu}, not {value}", ref=ref, mtu=itf.mtu, value=value),
                              hint=hint or tr("lab.mtu({name!r}, {value})", name=itf.name, value=value))
        return CheckResult(tr("{ref} has MTU {value}", ref=ref, value=value))

    def sysctl(self, key: str, value: str | int, ns: str = "main", hint: str = "") -> CheckResult:
        space = self.lab.snapshot().namespace(ns)
        found = space.sysctl(key) if space else None
        if found is None:
            found = self.lab.run("sysctl", "-n", key, ns=ns).stdout.strip()
        if str(found) != str(value):
            raise CheckFailed(tr("{key} is {found} in {ns}, not {value}", key=key, found=found, ns=ns, value=value),
                              hint=hint or tr("lab.sysctl({key!r}, {value!r}, ns={ns!r})", key=key, value=value, ns=ns))
        return CheckResult(tr("{key} = {value} in {ns}", key=key, value=value, ns=ns))

    def route(self, dst: str, dev: str, ns: str = "main", via: str | None = None, hint: str = "") -> CheckResult:
        for route in self.lab.snapshot().routes:
            if route.namespace == ns and route.dst == dst and route.dev == dev and (via is None or route.gateway == via):
                shown = f"{dst} via {via} dev {dev}" if via else f"{dst} dev {dev}"  # as `ip route` prints it
                return CheckResult(tr("{ns} routes {route}", ns=ns, route=shown))
        have = [f"{r.dst} dev {r.dev}" + (f" via {r.gateway}" if r.gateway else "") for r in self.lab.snapshot().routes if r.namespace == ns]
        wanted = f"{dst} dev {dev}" + (f" via {via}" if via else "")
        raise CheckFailed(tr("{ns} has no route {route} (routes: {have})", ns=ns, route=wanted, have="; ".join(have)),
                          hint=hint or tr("lab.route({dst!r}, via=..., dev={dev!r}, ns={ns!r})", dst=dst, dev=dev, ns=ns))

    def carrier(self, ref: str, timeout: float = 3.0, hint: str = "") -> CheckResult:
        """``ref`` has a carrier (LOWER_UP): for a tun/tap, a program holds its file descriptor.

        Waits up to ``timeout`` seconds, so a program just started has time to open the device."""
        import time

        def ok(itf: Interface) -> bool:  # the operational state follows LOWER_UP a moment later (linkwatch)
            return "LOWER_UP" in itf.flags and itf.state != "DOWN"

        deadline = time.monotonic() + timeout
        itf = self._interface(self.lab.snapshot(), ref, hint)
        while not ok(itf) and time.monotonic() < deadline:
            time.sleep(0.1)
            itf = self._interface(self.lab.snapshot(), ref, hint)
        if not ok(itf):
            tuntap = itf.kind in ("tun", "tap")
            why = tr("no program holds its file descriptor") if tuntap else tr("its link is down")
            raise CheckFailed(tr("{ref} has no carrier ({state}): {why}", ref=ref, state=itf.state, why=why),
                              hint=hint or (tr("start the program that opens it (lab.tun_open or lab.spawn)") if tuntap
                                            else tr("bring it and its peer up: lab.up({name!r}, ns={ns!r})", name=itf.name, ns=itf.namespace)))
        return CheckResult(tr("{ref} has a carrier ({state})", ref=ref, state=itf.state))

    def peers(self, ref: str, other: str, hint: str = "") -> CheckResult:
        """``ref`` and ``other`` are the two ends of one veth pair (as the kernel links them)."""
        itf = self._interface(self.lab.snapshot(), ref, hint)
        want = "/".join(_split(other))
        if itf.peer != want:
            raise CheckFailed(tr("the peer of {ref} is {peer}, not {want}", ref=ref, peer=itf.peer or tr("nothing (not a veth)"), want=want),
                              hint=hint or tr("ask the kernel: `ethtool -S DEV` gives peer_ifindex, the peer's index in its namespace"))
        return CheckResult(tr("{ref} and {want} are the two ends of one veth pair", ref=ref, want=want))

    def same_mac(self, ref: str, other: str, hint: str = "") -> CheckResult:
        """``ref`` and ``other`` have the same MAC address (a bridge takes one of its port's)."""
        snap = self.lab.snapshot()
        a, b = self._interface(snap, ref, hint), self._interface(snap, other, hint)
        if a.mac is None or a.mac != b.mac:
            raise CheckFailed(tr("{ref} has MAC {mac}, {other} has {other_mac}", ref=ref, mac=a.mac, other=other, other_mac=b.mac),
                              hint=hint or tr("a bridge takes the lowest MAC of its ports unless it was given one"))
        return CheckResult(tr("{ref} and {other} share the MAC {mac}", ref=ref, other=other, mac=a.mac))

    def neighbour(self, ref: str, ip: str, mac: str | None = None, hint: str = "") -> CheckResult:
        """The ARP cache of ``ref`` resolves ``ip`` (to ``mac`` when given): someone answered ARP there."""
        ns, dev = _split(ref)
        rows = [n for n in self.lab.snapshot().neighbours if n.namespace == ns and n.dev == dev and n.ip == ip]
        good = [n for n in rows if n.mac and n.state not in ("FAILED", "INCOMPLETE", "NONE")]
        if not good:
            what = (tr("{ref} has not resolved {ip} (the entry is {state})", ref=ref, ip=ip, state=rows[0].state) if rows
                    else tr("{ref} has not resolved {ip}", ref=ref, ip=ip))
            raise CheckFailed(what, hint=hint or tr("the kernel asks 'who-has {ip}' out of {dev}; something must answer with an ARP reply",
                                                    ip=ip, dev=dev))
        if mac and (good[0].mac or "").lower() != mac.lower():
            raise CheckFailed(tr("{ref} resolves {ip} to {found}, not {mac}", ref=ref, ip=ip, found=good[0].mac, mac=mac),
                              hint=hint or tr("answer with the MAC the exercise asks for"))
        return CheckResult(tr("{ref} resolves {ip} to {mac} ({state})", ref=ref, ip=ip, mac=good[0].mac, state=good[0].state))

    def captured(self, capture: Any, dev: str, text: str, at_least: int = 1, hint: str = "") -> CheckResult:
        """The capture on ``dev`` holds ``at_least`` packets whose tcpdump-style line contains ``text``."""
        lines = capture.summaries(dev)
        found = [line for line in lines if text.lower() in line.lower()]
        if len(found) < at_least:
            raise CheckFailed(tr("{dev} captured {found} packet(s) matching {text!r} ({total} in all), not {at_least}", dev=dev,
                                 found=len(found), text=text, total=len(lines), at_least=at_least),
                              hint=hint or tr("was the traffic sent while the capture was running, through this device?"))
        return CheckResult(tr("{dev} captured {found} packet(s) matching {text!r}", dev=dev, found=len(found), text=text))

    def that(self, ok: Any, message: str, hint: str = "") -> CheckResult:
        """A custom check: ``ok`` computed by the notebook from live state."""
        if not ok:
            raise CheckFailed(message, hint=hint or tr("the notebook's condition for this is not met yet"))
        return CheckResult(message)
