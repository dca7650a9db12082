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
        return f"✔ {self.message}"

    def _repr_html_(self) -> str:
        from .ipython import line_box

        return line_box(True, html.escape(self.message), "labkit-check-ok")


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
            where = f"; it is in {', '.join(elsewhere)}" if elsewhere else ""
            raise CheckFailed(f"there is no device {name!r} in namespace {ns!r}{where}",
                              hint=hint or f"create it first (its name must be exactly {name!r})")
        return itf

    def address_of(self, ns: str) -> str:
        """The first global IPv4 address in namespace ``ns`` (not lo)."""
        for itf in self.lab.snapshot().in_namespace(ns):
            for cidr in itf.addresses:
                if itf.kind != "loopback" and ":" not in cidr:
                    return cidr.split("/")[0]
        raise CheckFailed(f"namespace {ns!r} has no IPv4 address", hint="give one of its devices an address with lab.addr()")

    def _target(self, dst: str) -> str:
        return dst if (any(ch.isdigit() for ch in dst.split(".")[0]) and "." in dst) or ":" in dst else self.address_of(dst)

    # -- checks -------------------------------------------------------------------
    def reachable(self, src: str, dst: str, iface: str | None = None, count: int = 2, hint: str = "") -> CheckResult:
        """``dst`` (an IP or a namespace) answers a ping from namespace ``src``.

        When it does not, the hint names what the snapshot shows in the way (a device that is
        down, an address left on a bridge port, no route), before any generic advice."""
        address = self._target(dst)
        if self.lab.ping(address, ns=src, count=count, iface=iface, timeout=2):
            return CheckResult(f"{src} reaches {dst}" + (f" ({address})" if address != dst else "") + (f" via {iface}" if iface else ""))
        causes = unreachable_causes(self.lab.snapshot(), src, address)
        seen = "the lab shows: " + "; ".join(causes) if causes else ""
        raise CheckFailed(f"{src} cannot reach {dst} ({address})" + (f" via {iface}" if iface else ""),
                          hint=". ".join(h for h in (hint, seen) if h) or
                          "check addresses (same subnet?), that every device on the way is up, and the routes")

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
        if result.returncode == 1:
            return CheckResult(f"{src} cannot reach {dst} ({address})" + (f" via {iface}" if iface else "") + ", as expected")
        if result.returncode == 0:
            raise CheckFailed(f"{src} still reaches {dst} ({address})" + (f" via {iface}" if iface else ""),
                              hint=hint or "the exercise expects this path to be broken")
        why = (result.stderr or result.stdout).strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise CheckFailed(f"could not ping {dst} ({address}) from {src}" + (f" via {iface}" if iface else "")
                          + f": `{' '.join(argv)}` exited with {result.returncode}: {why[0]}",
                          hint="that is not 'no reply': check the device name and the address given to the check")

    def exists(self, ref: str, kind: str | None = None, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if kind and itf.kind != kind:
            raise CheckFailed(f"{ref} is a {itf.kind} device, not a {kind}", hint=hint or f"delete it and create a {kind}")
        return CheckResult(f"{ref} exists" + (f" as a {kind}" if kind else ""))

    def absent(self, ref: str, hint: str = "") -> CheckResult:
        ns, name = _split(ref)
        if self.lab.snapshot().interface(name, ns) is not None:
            raise CheckFailed(f"{ref} still exists", hint=hint or f"delete it with lab.delete({name!r}, ns={ns!r})")
        return CheckResult(f"{ref} is gone")

    def is_up(self, ref: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if not itf.is_up:
            raise CheckFailed(f"{ref} is down", hint=hint or f"bring it up: lab.up({itf.name!r}, ns={itf.namespace!r})")
        return CheckResult(f"{ref} is up ({itf.state})")

    def has_address(self, ref: str, cidr: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if cidr not in itf.addresses:
            owner = [i.key for i in self.lab.snapshot().interfaces if cidr in i.addresses]
            found = f"; it is on {', '.join(owner)}" if owner else ""
            raise CheckFailed(f"{ref} does not have {cidr} (it has {', '.join(itf.addresses) or 'no address'}){found}",
                              hint=hint or f"lab.addr({itf.name!r}, {cidr!r}) or lab.move_ip(...)")
        return CheckResult(f"{ref} has {cidr}")

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
            raise CheckFailed(f"{ref} has no address in {wanted} (it has {', '.join(itf.addresses) or 'no address'})",
                              hint=hint or "did its DHCP client get a lease? is the server's range the one you meant?")
        return CheckResult(f"{ref} has {inside[0]}, inside {wanted}")

    def no_address(self, ref: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        v4 = [a for a in itf.addresses if ":" not in a]
        if v4:
            raise CheckFailed(f"{ref} still has {', '.join(v4)}", hint=hint or "a bridge port should carry no IP: move it to the bridge")
        return CheckResult(f"{ref} carries no IPv4 address")

    def is_port_of(self, ref: str, bridge: str, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.master != bridge:
            raise CheckFailed(f"{ref} is not a port of {bridge} (its master is {itf.master or 'none'})",
                              hint=hint or f"lab.enslave({itf.name!r}, {bridge!r}, ns={itf.namespace!r})")
        return CheckResult(f"{ref} is a port of {bridge}")

    def port_state(self, ref: str, state: str, hint: str = "") -> CheckResult:
        """A bridge port's STP state: forwarding, blocking, listening, learning or disabled."""
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.stp_state != state:
            raise CheckFailed(f"port {ref} is {itf.stp_state or 'not a bridge port'}, not {state}",
                              hint=hint or "STP decides this: compare bridge ids (priority, MAC) and path costs")
        return CheckResult(f"port {ref} is {state}")

    def root_bridge(self, ref: str, hint: str = "") -> CheckResult:
        """``ref`` (a bridge) is the STP root: STP is on, its root id is its own bridge id, and
        every other STP bridge of the lab names it as root (so the election is over).

        With STP off every bridge calls itself root, which proves nothing; the hint names a
        priority that wins outright (one that ties would leave it to the MACs)."""
        snap = self.lab.snapshot()
        itf = self._interface(snap, ref, hint)
        if itf.kind != "bridge":
            raise CheckFailed(f"{ref} is a {itf.kind} device, not a bridge", hint=hint or "name the bridge, e.g. 'sw1/br0'")
        if not itf.detail("stp"):
            raise CheckFailed(f"STP is off on {ref}, so it elects nothing (a bridge without STP calls itself root)",
                              hint=hint or f"turn it on: lab.stp({itf.name!r}, on=True, ns={itf.namespace!r})")
        root, own = itf.detail("root_id"), itf.detail("bridge_id")
        winning = winning_priority(snap, itf)
        how = (f"lower its priority below every other bridge's: lab.stp({itf.name!r}, priority={winning}, ns={itf.namespace!r})"
               if winning is not None else "every other bridge already has priority 0: the lowest MAC decides")
        if root is None or root != own:
            raise CheckFailed(f"{ref} is not the root bridge: the root is {bridge_id_text(root)}, {ref} is {bridge_id_text(own)}",
                              hint=hint or f"the lowest bridge id wins, priority first, MAC second; {how}")
        others = [b for b in stp_bridges(snap) if b.key != itf.key and b.detail("root_id") != own]
        if others:
            listed = ", ".join(f"{b.key} (root {bridge_id_text(b.detail('root_id'))})" for b in others)
            raise CheckFailed(f"{ref} calls itself root, but not every bridge agrees yet: {listed}",
                              hint=hint or "the election takes a few hello times: lab.wait_stp(...) and check again; "
                                           "a bridge that is not connected to the others elects itself")
        return CheckResult(f"{ref} is the root bridge ({bridge_id_text(own)}), and every STP bridge agrees")

    def mtu(self, ref: str, value: int, hint: str = "") -> CheckResult:
        itf = self._interface(self.lab.snapshot(), ref, hint)
        if itf.mtu != value:
            raise CheckFailed(f"{ref} has MTU {itf.mtu}, not {value}", hint=hint or f"lab.mtu({itf.name!r}, {value})")
        return CheckResult(f"{ref} has MTU {value}")

    def sysctl(self, key: str, value: str | int, ns: str = "main", hint: str = "") -> CheckResult:
        space = self.lab.snapshot().namespace(ns)
        found = space.sysctl(key) if space else None
        if found is None:
            found = self.lab.run("sysctl", "-n", key, ns=ns).stdout.strip()
        if str(found) != str(value):
            raise CheckFailed(f"{key} is {found} in {ns}, not {value}", hint=hint or f"lab.sysctl({key!r}, {value!r}, ns={ns!r})")
        return CheckResult(f"{key} = {value} in {ns}")

    def route(self, dst: str, dev: str, ns: str = "main", via: str | None = None, hint: str = "") -> CheckResult:
        for route in self.lab.snapshot().routes:
            if route.namespace == ns and route.dst == dst and route.dev == dev and (via is None or route.gateway == via):
                return CheckResult(f"{ns} routes {dst} via {via + ' ' if via else ''}dev {dev}")
        have = [f"{r.dst} dev {r.dev}" + (f" via {r.gateway}" if r.gateway else "") for r in self.lab.snapshot().routes if r.namespace == ns]
        raise CheckFailed(f"{ns} has no route {dst} dev {dev}" + (f" via {via}" if via else "") + f" (routes: {'; '.join(have)})",
                          hint=hint or f"lab.route({dst!r}, via=..., dev={dev!r}, ns={ns!r})")

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
            why = "no program holds its file descriptor" if itf.kind in ("tun", "tap") else "its link is down"
            raise CheckFailed(f"{ref} has no carrier ({itf.state}): {why}",
                              hint=hint or ("start the program that opens it (lab.tun_open or lab.spawn)" if itf.kind in ("tun", "tap")
                                            else f"bring it and its peer up: lab.up({itf.name!r}, ns={itf.namespace!r})"))
        return CheckResult(f"{ref} has a carrier ({itf.state})")

    def peers(self, ref: str, other: str, hint: str = "") -> CheckResult:
        """``ref`` and ``other`` are the two ends of one veth pair (as the kernel links them)."""
        itf = self._interface(self.lab.snapshot(), ref, hint)
        want = "/".join(_split(other))
        if itf.peer != want:
            raise CheckFailed(f"the peer of {ref} is {itf.peer or 'nothing (not a veth)'}, not {want}",
                              hint=hint or "ask the kernel: `ethtool -S DEV` gives peer_ifindex, the peer's index in its namespace")
        return CheckResult(f"{ref} and {want} are the two ends of one veth pair")

    def same_mac(self, ref: str, other: str, hint: str = "") -> CheckResult:
        """``ref`` and ``other`` have the same MAC address (a bridge takes one of its port's)."""
        snap = self.lab.snapshot()
        a, b = self._interface(snap, ref, hint), self._interface(snap, other, hint)
        if a.mac is None or a.mac != b.mac:
            raise CheckFailed(f"{ref} has MAC {a.mac}, {other} has {b.mac}",
                              hint=hint or "a bridge takes the lowest MAC of its ports unless it was given one")
        return CheckResult(f"{ref} and {other} share the MAC {a.mac}")

    def neighbour(self, ref: str, ip: str, mac: str | None = None, hint: str = "") -> CheckResult:
        """The ARP cache of ``ref`` resolves ``ip`` (to ``mac`` when given): someone answered ARP there."""
        ns, dev = _split(ref)
        rows = [n for n in self.lab.snapshot().neighbours if n.namespace == ns and n.dev == dev and n.ip == ip]
        good = [n for n in rows if n.mac and n.state not in ("FAILED", "INCOMPLETE", "NONE")]
        if not good:
            seen = f" (the entry is {rows[0].state})" if rows else ""
            raise CheckFailed(f"{ref} has not resolved {ip}{seen}",
                              hint=hint or f"the kernel asks 'who-has {ip}' out of {dev}; something must answer with an ARP reply")
        if mac and (good[0].mac or "").lower() != mac.lower():
            raise CheckFailed(f"{ref} resolves {ip} to {good[0].mac}, not {mac}", hint=hint or "answer with the MAC the exercise asks for")
        return CheckResult(f"{ref} resolves {ip} to {good[0].mac} ({good[0].state})")

    def captured(self, capture: Any, dev: str, text: str, at_least: int = 1, hint: str = "") -> CheckResult:
        """The capture on ``dev`` holds ``at_least`` packets whose tcpdump-style line contains ``text``."""
        lines = capture.summaries(dev)
        found = [line for line in lines if text.lower() in line.lower()]
        if len(found) < at_least:
            raise CheckFailed(f"{dev} captured {len(found)} packet(s) matching {text!r} ({len(lines)} in all), not {at_least}",
                              hint=hint or "was the traffic sent while the capture was running, through this device?")
        return CheckResult(f"{dev} captured {len(found)} packet(s) matching {text!r}")

    def that(self, ok: Any, message: str, hint: str = "") -> CheckResult:
        """A custom check: ``ok`` computed by the notebook from live state."""
        if not ok:
            raise CheckFailed(message, hint=hint or "the notebook's condition for this is not met yet")
        return CheckResult(message)
