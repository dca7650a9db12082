"""Lab: the object a notebook holds. Each method is one real step on a real kernel.

A Lab owns a set of network namespaces on a target (the local sandbox by default,
or a Vagrant VM). Its ``main`` namespace plays the host of the seeds; with
``uplink=True`` (the default) its ``eth0`` is one end of a veth whose other end is
in an ``upstream`` namespace that plays the physical LAN: a switch ``lan`` with the
gateway 192.168.3.1 and, behind it, a far server 198.51.100.1. So seed 002's
"bridge eth0 into br0" can be done, and done wrong, without touching the host.

Every step returns a :class:`Change`; ``snapshot()`` reads the kernel back;
``show()`` draws it with what changed highlighted; ``undo()`` and ``reset()`` go back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import steps
from .errors import InvalidInput, LabkitError, StepFailed
from .model import Snapshot
from .state.diff import Diff, diff
from .state.parse import parse
from .steps.base import Op, Step
from .targets.base import Target

CACHE_ONLY = frozenset({"neigh_flush"})  # ops that only forget learned state: nothing to undo
UPLINK = {"lan": "192.168.3.0/24", "gateway": "192.168.3.1/24", "host": "192.168.3.10/24", "far": "198.51.100.1/32"}


@dataclass
class Change:
    """What one step did: its ops, which of them changed the kernel, and how to undo them."""

    step: Step
    changed: list[bool] = field(default_factory=list)
    undo_ops: list[Op] = field(default_factory=list)
    ran: list[str] | None = None

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def commands(self) -> list[str]:
        """The exact commands this step amounts to (templates filled in by the target)."""
        return self.ran if self.ran is not None else self.step.commands

    @property
    def did_change(self) -> bool:
        return any(self.changed)

    def __repr__(self) -> str:
        mark = "" if self.did_change else "  (already so: nothing changed)"
        return f"<Change {self.title!r}{mark}: " + "; ".join(self.commands) + ">"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"✔ {self.title}" + ("" if self.did_change else " (already so: nothing changed)"))
        for command in self.commands:
            p.break_()
            p.text(f"  $ {command}")


@dataclass
class RunResult:
    """The result of a command run inside the lab, like ``subprocess.CompletedProcess``."""

    argv: list[str]
    ns: str
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def check_returncode(self) -> None:
        if self.returncode != 0:
            raise LabkitError(f"`{' '.join(self.argv)}` exited with {self.returncode}", where=f"namespace {self.ns}",
                              hint=(self.stderr or self.stdout).strip()[-300:])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"[{self.ns}]$ {' '.join(self.argv)}   → exit {self.returncode}")
        for text in (self.stdout, self.stderr):
            if text.strip():
                p.break_()
                p.text(text.rstrip())


class Background:
    """A program running in the background inside the lab (a server, dnsmasq, a VPN)."""

    def __init__(self, lab: Lab, pid: int, argv: list[str], ns: str) -> None:
        self.lab, self.pid, self.argv, self.ns = lab, pid, argv, ns

    def poll(self) -> dict[str, Any]:
        return dict(self.lab.target.request("spawn_poll", pid=self.pid))

    @property
    def output(self) -> str:
        return str(self.poll()["output"])

    @property
    def running(self) -> bool:
        return self.poll()["returncode"] is None

    def wait(self, timeout: float = 30.0) -> int | None:
        """Wait until it exits (or ``timeout`` s pass); its exit code, or None if still running."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            code = self.poll()["returncode"]
            if code is not None or time.monotonic() >= deadline:
                return None if code is None else int(code)
            time.sleep(0.05)

    def stop(self) -> str:
        """Stop it and return everything it printed."""
        return str(self.lab.target.request("spawn_stop", pid=self.pid)["output"])


class Batch:
    """``with lab.batch():`` — the steps inside become one atomic step, applied at the end."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.change: Change | None = None

    def __enter__(self) -> Batch:
        if self.lab._batch is not None:
            raise InvalidInput("batches do not nest", hint="end the first `with lab.batch():` block before starting another")
        self.lab._batch = []
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        planned, self.lab._batch = self.lab._batch or [], None
        if exc_type is None and planned:
            ops = tuple(op for step in planned for op in step.ops)
            self.change = self.lab.apply(Step(f"{len(planned)} steps in one batch", ops))


class Confirmed(Batch):
    """``with lab.confirmed(timeout):`` — like a batch, applied as a commit-confirmed change."""

    def __init__(self, lab: Lab, timeout: float) -> None:
        super().__init__(lab)
        self.timeout = timeout
        self.kept: bool | None = None
        self.seconds = 0.0

    def __exit__(self, exc_type: object, *exc: object) -> None:
        import time

        planned, self.lab._batch = self.lab._batch or [], None
        if exc_type is not None or not planned:
            return
        step = Step(f"{len(planned)} steps, commit-confirmed", tuple(op for s in planned for op in s.ops))
        start = time.monotonic()
        answer = self.lab.target.request("apply_confirmed", ops=[op.to_dict() for op in step.ops], timeout=self.timeout)
        verdict = self.lab.target.request("confirm", token=answer["token"])  # only arrives if we can still reach it
        self.seconds = time.monotonic() - start
        self.kept = bool(verdict["kept"])
        results = answer["results"]
        if not self.kept:
            raise StepFailed(f"the change cut the controller off, so the target rolled it back after "
                             f"{verdict['rolled_back_after']} s; the connection came back after {self.seconds:.1f} s",
                             hint="apply the steps in an order that keeps the path to the controller (move_ip with the port)")
        self.change = Change(step, [r["changed"] for r in results], [Op.from_dict(u) for u in verdict["undo"]],
                             [c for r in results for c in r.get("commands", [r["op"]["command"]])])
        self.lab.history.append(self.change)


def _target_from_env(lab_id: str | None, mode: str | None) -> Target:
    """The local sandbox, or the Vagrant VM when LABKIT_TARGET=vagrant (LABKIT_VAGRANT_DIR names its folder)."""
    import os

    if os.environ.get("LABKIT_TARGET", "local") == "vagrant":
        from .targets.vagrant import VagrantTarget

        return VagrantTarget(os.environ.get("LABKIT_VAGRANT_DIR", "."), lab_id=lab_id)
    from .targets.local import LocalTarget

    return LocalTarget(lab_id=lab_id, mode=mode)


class Lab:
    """A lab on a target: ``with Lab() as lab: lab.veth('veth0', 'veth1')``."""

    def __init__(self, target: Target | None = None, *, lab_id: str | None = None, uplink: bool = True,
                 mode: str | None = None) -> None:
        if target is None:
            target = _target_from_env(lab_id, mode)
        self.target = target
        self.uplink = uplink
        self.history: list[Change] = []
        self._shown: Snapshot | None = None
        self._view_mark = 0  # history index up to which the cell view has shown commands
        self._batch: list[Step] | None = None
        try:
            self._build_baseline()
        except BaseException:
            target.close()
            raise

    @classmethod
    def vagrant(cls, path: str = ".", *, uplink: bool = True, **options: Any) -> Lab:
        """A lab inside a disposable Vagrant VM (brought up if needed)."""
        from .targets.vagrant import VagrantTarget

        return cls(VagrantTarget(path, **options), uplink=uplink)

    @property
    def check(self) -> Any:
        """Self-checks that read the kernel: ``lab.check.reachable('h1', 'h2')``."""
        from .checks import Checks

        return Checks(self)

    @property
    def lab_id(self) -> str:
        return self.target.lab_id

    # -- lifecycle ----------------------------------------------------------------
    def _baseline_steps(self) -> list[Step]:
        plan = [steps.netns("main")]
        if self.uplink:
            plan += [
                steps.netns("upstream"),
                steps.bridge("lan", ns="upstream"),
                steps.veth("eth0", "port-main", ns="main", peer_ns="upstream"),
                steps.enslave("port-main", "lan", ns="upstream"),
                steps.addr("lan", UPLINK["gateway"], ns="upstream"),
                steps.addr("lo", UPLINK["far"], ns="upstream"),
                steps.up("lan", "port-main", ns="upstream"),
                steps.ip_forward(True, ns="upstream"),
                steps.addr("eth0", UPLINK["host"]),
                steps.up("eth0"),
                steps.route("default", via=UPLINK["gateway"].split("/")[0]),
            ]
        return plan

    def _build_baseline(self) -> None:
        ops = [op for step in self._baseline_steps() for op in step.ops]
        self.target.request("apply", ops=[op.to_dict() for op in ops])

    def close(self) -> None:
        """Remove the lab: its namespaces, devices and processes (a VM keeps running).

        Changes made in the VM's own namespace (``ns="host"``) are undone first, newest first,
        so the next lab finds the guest's eth0 as it was."""
        self._undo_host_changes()
        self.target.close()

    def _undo_host_changes(self) -> None:
        for change in reversed(self.history):
            if change.did_change and any(op.ns == "host" for op in change.step.ops) and change.undo_ops:
                try:
                    self.target.request("apply", ops=[op.to_dict() for op in change.undo_ops])
                except LabkitError:
                    continue
        self.history.clear()

    def destroy(self) -> None:
        """Remove the lab and, on the Vagrant target, the VM itself."""
        self._undo_host_changes()
        end = getattr(self.target, "destroy", None)
        if callable(end):
            end()
        else:
            self.target.close()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        """Back to a fresh lab: every namespace removed and the baseline built again."""
        self.target.request("wipe")
        self.history.clear()
        self._shown = None
        self._build_baseline()

    # -- steps --------------------------------------------------------------------
    def confirmed(self, timeout: float = 5.0) -> Confirmed:
        """Group steps into one change that rolls itself back unless we still reach the agent.

        ``with lab.confirmed(timeout=5): lab.enslave("eth0", "br0", ns="host"); lab.move_ip(...)``
        applies the steps at the end of the block, then confirms over the same connection. If
        the change cut the connection, the target undoes it by itself after ``timeout`` seconds,
        the connection comes back, and :class:`~labkit.errors.StepFailed` says it was rolled back."""
        return Confirmed(self, timeout)

    def batch(self) -> Batch:
        """Group the steps of a ``with`` block into one atomic step and one round trip.

        Inside the block steps are only planned; at its end all their ops run on the
        target together (all or nothing). Useful for building large labs fast."""
        return Batch(self)

    def apply(self, step: Step) -> Change:
        """Apply a step atomically on the target and remember how to undo it."""
        if self._batch is not None:
            self._batch.append(step)
            return Change(step, [], [], [])
        results = self.target.request("apply", ops=[op.to_dict() for op in step.ops])
        change = Change(step, [r["changed"] for r in results],
                        [Op.from_dict(u) for r in reversed(results) for u in r["undo"]],
                        [c for r in results for c in r.get("commands", [r["op"]["command"]])])
        self.history.append(change)
        return change

    def undo(self) -> Change | None:
        """Undo the last step that changed something; None when there is nothing to undo."""
        while self.history:
            change = self.history.pop()
            if change.did_change and not all(op.action in CACHE_ONLY for op in change.step.ops):
                if not change.undo_ops:
                    raise InvalidInput(f"step {change.title!r} cannot be undone", hint="use lab.reset() to start over")
                undo = Step(f"Undo: {change.title}", tuple(change.undo_ops))
                results = self.target.request("apply", ops=[op.to_dict() for op in undo.ops])
                return Change(undo, [r["changed"] for r in results], [],
                              [c for r in results for c in r.get("commands", [r["op"]["command"]])])
        return None

    def script(self) -> str:
        """Every command of this lab's steps so far, as a shell script a learner can keep."""
        return "\n".join(cmd for change in self.history if change.did_change for cmd in change.commands)

    def netns(self, name: str) -> Change:
        return self.apply(steps.netns(name))

    def veth(self, name: str, peer: str, ns: str = "main", peer_ns: str | None = None) -> Change:
        return self.apply(steps.veth(name, peer, ns, peer_ns))

    def tuntap(self, name: str, mode: str = "tap", ns: str = "main", user: str | None = None) -> Change:
        return self.apply(steps.tuntap(name, mode, ns, user))

    def bridge(self, name: str, stp: bool = False, forward_delay: float | None = None, priority: int | None = None,
               ns: str = "main") -> Change:
        return self.apply(steps.bridge(name, stp, forward_delay, priority, ns))

    def stp(self, bridge: str, on: bool = True, forward_delay: float | None = None, priority: int | None = None,
            hello_time: float | None = None, max_age: float | None = None, ns: str = "main") -> Change:
        return self.apply(steps.stp(bridge, on, forward_delay, priority, hello_time, max_age, ns))

    def bridge_set(self, name: str, ns: str = "main", **settings: Any) -> Change:
        return self.apply(steps.bridge_set(name, ns, **settings))

    def enslave(self, dev: str, bridge: str, ns: str = "main") -> Change:
        return self.apply(steps.enslave(dev, bridge, ns))

    def release(self, dev: str, ns: str = "main") -> Change:
        return self.apply(steps.release(dev, ns))

    def port(self, dev: str, cost: int | None = None, priority: int | None = None, ns: str = "main") -> Change:
        return self.apply(steps.port(dev, cost, priority, ns))

    def addr(self, dev: str, cidr: str, ns: str = "main") -> Change:
        return self.apply(steps.addr(dev, cidr, ns))

    def addr_del(self, dev: str, cidr: str, ns: str = "main") -> Change:
        return self.apply(steps.addr_del(dev, cidr, ns))

    def move_ip(self, src: str, dst: str, ns: str = "main", cidrs: list[str] | None = None) -> Change:
        return self.apply(steps.move_ip(src, dst, ns, cidrs))

    def up(self, *names: str, ns: str = "main") -> Change:
        return self.apply(steps.up(*names, ns=ns))

    def down(self, *names: str, ns: str = "main") -> Change:
        return self.apply(steps.down(*names, ns=ns))

    def delete(self, name: str, ns: str = "main") -> Change:
        return self.apply(steps.delete(name, ns))

    def mtu(self, name: str, value: int, ns: str = "main") -> Change:
        return self.apply(steps.mtu(name, value, ns))

    def mac(self, name: str, value: str, ns: str = "main") -> Change:
        return self.apply(steps.mac(name, value, ns))

    def move(self, name: str, to_ns: str, ns: str = "main") -> Change:
        return self.apply(steps.move(name, to_ns, ns))

    def route(self, dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Change:
        return self.apply(steps.route(dst, via, dev, ns))

    def route_del(self, dst: str, via: str | None = None, dev: str | None = None, ns: str = "main") -> Change:
        return self.apply(steps.route_del(dst, via, dev, ns))

    def neigh_flush(self, dev: str | None = None, ns: str = "main") -> Change:
        return self.apply(steps.neigh_flush(dev, ns))

    def sysctl(self, key: str, value: str | int, ns: str = "main") -> Change:
        return self.apply(steps.sysctl(key, value, ns))

    def rp_filter(self, dev: str, value: int, ns: str = "main") -> Change:
        return self.apply(steps.rp_filter(dev, value, ns))

    def accept_local(self, dev: str, value: int = 1, ns: str = "main") -> Change:
        return self.apply(steps.accept_local(dev, value, ns))

    def ip_forward(self, on: bool = True, ns: str = "main") -> Change:
        return self.apply(steps.ip_forward(on, ns))

    def macvlan(self, name: str, parent: str, mode: str = "bridge", ns: str = "main") -> Change:
        return self.apply(steps.macvlan(name, parent, mode, ns))

    def ipvlan(self, name: str, parent: str, mode: str = "l2", ns: str = "main") -> Change:
        return self.apply(steps.ipvlan(name, parent, mode, ns))

    def vlan(self, name: str, parent: str, vlan_id: int, protocol: str = "802.1Q", ns: str = "main") -> Change:
        return self.apply(steps.vlan(name, parent, vlan_id, protocol, ns))

    def vxlan(self, name: str, vni: int, remote: str | None = None, local: str | None = None, dev: str | None = None,
              port: int = 4789, group: str | None = None, ns: str = "main") -> Change:
        return self.apply(steps.vxlan(name, vni, remote, local, dev, port, group, ns))

    def geneve(self, name: str, vni: int, remote: str, port: int = 6081, ns: str = "main") -> Change:
        return self.apply(steps.geneve(name, vni, remote, port, ns))

    def tunnel(self, name: str, kind: str, local: str, remote: str, ttl: int = 64, ns: str = "main") -> Change:
        return self.apply(steps.tunnel(name, kind, local, remote, ttl, ns))

    def ipip(self, name: str, local: str, remote: str, ns: str = "main") -> Change:
        return self.tunnel(name, "ipip", local, remote, ns=ns)

    def gre(self, name: str, local: str, remote: str, ns: str = "main") -> Change:
        return self.tunnel(name, "gre", local, remote, ns=ns)

    def sit(self, name: str, local: str, remote: str, ns: str = "main") -> Change:
        return self.tunnel(name, "sit", local, remote, ns=ns)

    def masquerade(self, source: str, out_dev: str, ns: str = "main") -> Change:
        return self.apply(steps.masquerade(source, out_dev, ns))

    # -- looking and running -----------------------------------------------------
    def raw_snapshot(self) -> dict[str, Any]:
        """The raw kernel dump behind a snapshot (to record as test data)."""
        return dict(self.target.request("snapshot"))

    def snapshot(self) -> Snapshot:
        """Read the lab's state back from the kernel."""
        return parse(self.raw_snapshot())

    def changes(self) -> tuple[Snapshot, Diff]:
        """The snapshot now and what changed since the last ``show``/``changes``."""
        now = self.snapshot()
        delta = diff(self._shown, now) if self._shown is not None else diff(now, now)
        self._shown = now
        return now, delta

    def show(self, capture: Any = None) -> Any:
        """The live topology as a picture (SVG), what changed since the last look highlighted."""
        from .render.view import TopologyView

        snap, delta = self.changes()
        return TopologyView(snap, delta, paths=getattr(capture, "path_counts", lambda: None)())

    def run(self, *argv: str, ns: str = "main", input: str | None = None, timeout: float = 30.0,
            check: bool = False) -> RunResult:
        """Run a command inside namespace ``ns`` of the lab (never on the host)."""
        if not argv:
            raise InvalidInput("run() needs a command", hint="e.g. lab.run('ping', '-c', '1', '20.1.0.11')")
        words = [str(a) for a in argv]
        answer = self.target.request("run", ns=ns, argv=words, input=input, timeout=timeout)
        result = RunResult(words, ns, answer["returncode"], answer["stdout"], answer["stderr"])
        if check:
            result.check_returncode()
        return result

    def spawn(self, *argv: str, ns: str = "main") -> Background:
        """Start a program in the background inside ``ns``; it ends with the lab at the latest."""
        words = [str(a) for a in argv]
        return Background(self, int(self.target.request("spawn", ns=ns, argv=words)["pid"]), words, ns)

    def python(self, *args: str) -> list[str]:
        """A command line that runs Python *on the target* with labkit and pyroute2 importable.

        ``lab.run(*lab.python("-c", "import pyroute2; print(pyroute2.__version__)"), ns="h1")``
        works the same on the local sandbox and in the VM (where labkit travels as a zip)."""
        where = self.target.request("python")
        return ["env", f"PYTHONPATH={where['path']}", where["executable"], *args]

    def program(self, name: str, *args: object) -> list[str]:
        """The command line of one of labkit's small programs (``tap_guest``, ``tunvpn``) on the target."""
        return self.python("-u", "-m", f"labkit.programs.{name}", *(str(a) for a in args))

    def ping(self, dst: str, ns: str = "main", count: int = 1, iface: str | None = None, timeout: float = 2.0) -> bool:
        """True if ``dst`` answers a ping from ``ns`` (``-I iface`` to choose the device)."""
        argv = ["ping", "-n", "-c", str(count), "-W", str(max(1, int(timeout)))]
        if iface:
            argv += ["-I", iface]
        return self.run(*argv, dst, ns=ns, timeout=timeout * count + 5).ok

    def supports(self, *kinds: str) -> dict[str, bool]:
        """Which device kinds ('vlan', 'ipvlan', 'geneve', 'ipip', 'gre', 'sit', ...) this target's kernel can make."""
        return dict(self.target.request("features", kinds=list(kinds)))

    def missing(self, *kinds: str) -> list[str]:
        """The kinds of ``kinds`` this kernel cannot make (empty when all work)."""
        return [kind for kind, ok in self.supports(*kinds).items() if not ok]

    def tun_open(self, name: str, mode: str = "tun", ns: str = "main") -> Any:
        """Open (and so create) tun/tap device ``name``, with this notebook as its user-space end."""
        from .tundev import TunDevice

        return TunDevice(self.target, ns, name, mode)

    def wait_stp(self, *bridges: str, timeout: float = 60.0, min_time: float = 1.0) -> dict[str, Any]:
        """Wait until every port of ``bridges`` ('br0' or 'sw2/br0') is forwarding or blocking.

        Waits at least ``min_time`` seconds: a bridge notices a port's carrier change up to a
        second late, so right after a link goes down or up every port may still look settled.

        Returns {'converged', 'elapsed', 'events': [{'t', 'port', 'bridge', 'state'}], 'states'}."""
        pairs = [b.split("/", 1) if "/" in b else ["main", b] for b in bridges]
        return dict(self.target.request("stp_wait", bridges=pairs, timeout=timeout, min_time=min_time))

    def capture(self, *devices: str, filter: str = "", count: int | None = None, duration: float | None = None,
                snaplen: int = 262144) -> Any:
        """Capture on each device ('veth1' in main, or 'h1/eth0') with tcpdump on the target.

        Use as ``with lab.capture("veth1", "lo", filter="icmp") as cap:``; returns once every
        tcpdump is listening, so no packet of the traffic that follows is missed."""
        from .capture.session import Capture

        return Capture(self, devices, filter=filter, count=count, duration=duration, snaplen=snaplen)

    def view(self, capture: Any = None, *, title: str | None = None) -> Any:
        """The cell view: topology (changes since the last view highlighted), the commands the
        steps since the last view ran, and the capture's panes when one is given."""
        from .widgets.stepview import step_view

        return step_view(self, capture=capture, title=title)

    def __repr__(self) -> str:
        return f"<Lab {self.lab_id} on {self.target.name}: {len(self.history)} steps>"
