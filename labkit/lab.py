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

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from . import live, steps
from .checkpoints import replay as checkpoints
from .checkpoints.form import RunRecord
from .errors import Interrupted, InvalidInput, LabkitError, StepFailed
from .i18n import joined, tr
from .model import Snapshot
from .results import Background, Change, RunResult
from .settings import settings
from .state.diff import Diff, diff
from .state.parse import parse
from .steps.base import Step
from .targets.base import Target
from .targets.choose import target_from_settings
from .transactions import Batch, Confirmed

if TYPE_CHECKING:
    from .capture.session import Capture
    from .checks import Checks
    from .render.view import TopologyView
    from .tundev import TunDevice
    from .widgets.stepview import StepView

__all__ = ["Background", "Change", "Lab", "RunResult"]

CACHE_ONLY = frozenset({"neigh_flush"})  # ops that only forget learned state: nothing to undo
UPLINK = {"lan": "192.168.3.0/24", "gateway": "192.168.3.1/24", "host": "192.168.3.10/24", "far": "198.51.100.1/32"}
P = ParamSpec("P")


def _step_method(build: Callable[P, Step]) -> Callable[Concatenate[Lab, P], Change]:
    """A Lab method that plans ``build(...)`` and applies it: the step's own signature and
    docstring are the method's, so there is one source for each."""

    @functools.wraps(build)
    def method(self: Lab, /, *args: P.args, **kwargs: P.kwargs) -> Change:
        return self.apply(build(*args, **kwargs))

    signature = inspect.signature(build)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()], return_annotation="Change")
    return method


class Lab:
    """A lab on a target: ``with Lab() as lab: lab.veth('veth0', 'veth1')``."""

    def __init__(self, target: Target | None = None, *, lab_id: str | None = None, uplink: bool = True,
                 mode: str | None = None) -> None:
        if target is None:
            target = target_from_settings(settings(), lab_id, mode)
        self.target, self.uplink = target, uplink
        self.history: list[Change] = []
        self._shown: Snapshot | None = None
        self._view_mark = 0  # history index up to which the cell view has shown commands
        self._batch: list[Step] | None = None
        self.runs: list[RunRecord] = []  # lab.run / lab.spawn commands, after how many steps (a checkpoint lists them)
        self.held: list[Background | TunDevice] = []  # what a checkpoint cannot replay while it lives
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
    def check(self) -> Checks:
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
        baseline = Step(tr("The lab's baseline"), tuple(op for step in self._baseline_steps() for op in step.ops))
        self._baseline = Change.from_results(baseline, self.target.client.apply([op.to_dict() for op in baseline.ops]))

    def close(self) -> None:
        """Remove the lab: its namespaces, devices and processes (a VM keeps running).

        Changes made in the VM's own namespace (``ns="host"``) are undone first, newest first,
        so the next lab finds the guest's eth0 as it was; an undo that fails is reported."""
        try:
            failed = self._undo_host_changes()
        finally:
            self.target.close()
        self._report_undo_failures(failed)

    def _undo_host_changes(self) -> list[str]:
        failed: list[str] = []
        for change in reversed(self.history):
            if change.did_change and any(op.ns == "host" for op in change.step.ops) and change.undo_ops:
                try:
                    self.target.client.apply([op.to_dict() for op in change.undo_ops])
                except LabkitError as exc:
                    failed.append(tr("{title}: {what}", title=change.title, what=exc.what))
        self.history.clear()
        return failed

    @staticmethod
    def _report_undo_failures(failed: list[str]) -> None:
        if failed:
            raise StepFailed(tr("could not undo {count} change(s) to the VM's own namespace: {failures}", count=len(failed), failures=joined(failed)),
                             hint=tr("the VM is disposable: `vagrant destroy -f` and `vagrant up` give a fresh one"))

    def destroy(self) -> None:
        """Remove the lab and, on the Vagrant target, the VM itself."""
        failed = self._undo_host_changes()
        end = getattr(self.target, "destroy", None)
        if callable(end):
            end()
        else:
            self.target.close()
        self._report_undo_failures(failed)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        """Back to a fresh lab: changes to the VM's own namespace undone, every lab namespace
        removed, and the baseline built again (``ns="host"`` stays usable in a VM)."""
        failed = self._undo_host_changes()
        self.target.client.wipe()
        self.runs, self.held = [], []
        self._shown = None
        self._build_baseline()
        self._report_undo_failures(failed)

    # -- applying steps -------------------------------------------------------------
    def confirmed(self, timeout: float = 5.0) -> Confirmed:
        """Group steps into one change that rolls itself back unless we still reach the agent.

        ``with lab.confirmed(timeout=5): lab.enslave("eth0", "br0", ns="host"); lab.move_ip(...)``
        applies the steps at the end of the block, then confirms over the same connection. If
        the change cut the connection, the target undoes it by itself after ``timeout`` seconds,
        the connection comes back, and :class:`~labkit.errors.StepFailed` says it was rolled back."""
        return Confirmed(self, timeout)

    def batch(self) -> Batch:
        """Group the steps of a ``with`` block into one atomic step and one round trip.

        Inside the block steps are only planned (each says so); at its end all their ops
        run on the target together (all or nothing). Useful for building large labs fast."""
        return Batch(self)

    def apply(self, step: Step) -> Change:
        """Apply a step atomically on the target and remember how to undo it."""
        if self._batch is not None:
            self._batch.append(step)
            return Change(step, planned=True)
        try:
            results = self.target.client.apply([op.to_dict() for op in step.ops])
        except Interrupted as exc:
            if isinstance(exc.result, list):  # it had finished: keep it undoable, then stop the cell
                self.history.append(Change.from_results(step, exc.result))
            raise
        change = Change.from_results(step, results)
        self.history.append(change)
        return change

    def undo(self) -> Change | None:
        """Undo the last step that changed something; None when there is nothing to undo."""
        for position in range(len(self.history) - 1, -1, -1):
            change = self.history[position]
            if not change.did_change or all(op.action in CACHE_ONLY for op in change.step.ops):
                continue
            if not change.undo_ops:
                raise InvalidInput(tr("step {title!r} cannot be undone", title=change.title), hint=tr("use lab.reset() to start over"))
            undo = Step(tr("Undo: {title}", title=change.title), tuple(change.undo_ops))
            done = Change.from_results(undo, self.target.client.apply([op.to_dict() for op in undo.ops]))
            del self.history[position:]  # only once the undo worked: a failed undo keeps the step undoable
            self.runs = [run for run in self.runs if run.after <= position]
            return done
        self.history.clear()
        return None

    checkpoint = checkpoints.take  # lab.checkpoint("step-3", path=...): this point, to jump back to later
    restore = classmethod(checkpoints.restore)  # Lab.restore(checkpoint or file): rebuilt by replay, then checked
    live = live.live  # `with lab.live():` the picture follows the kernel while the block runs (labkit.live)

    def script(self) -> str:
        """Every command of this lab's steps so far, as the steps showed them (``ip -n h1 …``)."""
        return "\n".join(cmd for change in self.history if change.did_change for cmd in change.commands)

    def shell_script(self, lab_id: str | None = None) -> str:
        """This lab as a script for a root shell on the target: the baseline and every step that
        changed the kernel, with the real namespace names (``ip -n labkit-<id>-h1 …``), ``main``
        included, so pasting it never touches the host's own namespace.

        With another ``lab_id`` it rebuilds the same lab in fresh namespaces of that id."""
        from .names import check_lab_id
        from .steps.shell import shell_script

        changes = [self._baseline, *(c for c in self.history if c.did_change)]
        labels = {ns.name for ns in self.snapshot().namespaces}
        return shell_script([(c.title, c.ran_in) for c in changes], labels,
                            check_lab_id(lab_id) if lab_id is not None else self.lab_id)

    # -- the steps (each signature and docstring is the step's own, see labkit.steps) --------
    netns = _step_method(steps.netns)
    veth = _step_method(steps.veth)
    tuntap = _step_method(steps.tuntap)
    bridge = _step_method(steps.bridge)
    stp = _step_method(steps.stp)
    bridge_set = _step_method(steps.bridge_set)
    enslave = _step_method(steps.enslave)
    release = _step_method(steps.release)
    port = _step_method(steps.port)
    addr = _step_method(steps.addr)
    addr_del = _step_method(steps.addr_del)
    move_ip = _step_method(steps.move_ip)
    up = _step_method(steps.up)
    down = _step_method(steps.down)
    delete = _step_method(steps.delete)
    mtu = _step_method(steps.mtu)
    mac = _step_method(steps.mac)
    move = _step_method(steps.move)
    route = _step_method(steps.route)
    route_del = _step_method(steps.route_del)
    neigh_flush = _step_method(steps.neigh_flush)
    sysctl = _step_method(steps.sysctl)
    rp_filter = _step_method(steps.rp_filter)
    accept_local = _step_method(steps.accept_local)
    ip_forward = _step_method(steps.ip_forward)
    macvlan = _step_method(steps.macvlan)
    ipvlan = _step_method(steps.ipvlan)
    vlan = _step_method(steps.vlan)
    vxlan = _step_method(steps.vxlan)
    geneve = _step_method(steps.geneve)
    tunnel = _step_method(steps.tunnel)
    device = _step_method(steps.device)
    masquerade = _step_method(steps.masquerade)
    ipip = _step_method(steps.ipip)
    gre = _step_method(steps.gre)
    sit = _step_method(steps.sit)

    # -- looking and running -----------------------------------------------------
    def raw_snapshot(self) -> dict[str, Any]:
        """The raw kernel dump behind a snapshot (to record as test data)."""
        return self.target.client.snapshot()

    def snapshot(self) -> Snapshot:
        """Read the lab's state back from the kernel."""
        return parse(self.raw_snapshot())

    def changes(self) -> tuple[Snapshot, Diff]:
        """The snapshot now and what changed since the last ``show``/``changes``."""
        now = self.snapshot()
        delta = diff(self._shown, now) if self._shown is not None else diff(now, now)
        self._shown = now
        return now, delta

    def show(self, capture: Capture | None = None) -> TopologyView:
        """The live topology as a picture (SVG), what changed since the last look highlighted."""
        from .render.view import TopologyView

        snap, delta = self.changes()
        return TopologyView(snap, delta, paths=capture.path_counts() if capture is not None else None)

    def run(self, *argv: str, ns: str = "main", input: str | None = None, timeout: float = 30.0,
            check: bool = False) -> RunResult:
        """Run a command inside namespace ``ns`` of the lab (never on the host).

        "Interrupt kernel" stops the command (the lab stays as it was)."""
        if not argv:
            raise InvalidInput(tr("run() needs a command"), hint=tr("e.g. lab.run('ping', '-c', '1', '20.1.0.11')"))
        words = [str(a) for a in argv]
        answer = self.target.client.run(ns, words, input=input, timeout=timeout)
        result = RunResult(words, ns, answer["returncode"], answer["stdout"], answer["stderr"])
        self.runs.append(RunRecord(len(self.history), tuple(words), ns, "run", result.returncode))
        if check:
            result.check_returncode()
        return result

    def spawn(self, *argv: str, ns: str = "main", name: str | None = None) -> Background:
        """Start a program in the background inside ``ns``; it ends with the lab at the latest.

        With ``name``, a program of that name that still runs is stopped first (so the cell
        can be run again); a program that exits with an error at once raises, with its output."""
        words = [str(a) for a in argv]
        if not words:
            raise InvalidInput(tr("spawn() needs a command"), hint=tr("e.g. lab.spawn('dnsmasq', '-k', ns='h1', name='dnsmasq')"))
        program = Background(self.target.client, self.target.client.spawn(ns, words, name=name), words, ns, name)
        self.runs.append(RunRecord(len(self.history), tuple(words), ns, "spawn"))
        self.held.append(program)
        return program

    def python(self, *args: str) -> list[str]:
        """A command line that runs Python *on the target* with labkit and pyroute2 importable.

        ``lab.run(*lab.python("-c", "import pyroute2; print(pyroute2.__version__)"), ns="h1")``
        works the same on the local sandbox and in the VM (where labkit travels as a zip)."""
        where = self.target.client.python()
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
        return self.target.client.features(list(kinds))

    def missing(self, *kinds: str) -> list[str]:
        """The kinds of ``kinds`` this kernel cannot make (empty when all work)."""
        return [kind for kind, ok in self.supports(*kinds).items() if not ok]

    def tun_open(self, name: str, mode: str = "tun", ns: str = "main") -> TunDevice:
        """Open (and so create) tun/tap device ``name``, with this notebook as its user-space end."""
        from .tundev import TunDevice

        device = TunDevice(self.target.client, ns, name, mode)
        self.held.append(device)
        return device

    def wait_stp(self, *bridges: str, timeout: float = 60.0, min_time: float = 1.0, show: bool | None = None) -> dict[str, Any]:
        """Wait until the ports of ``bridges`` ('br0', 'sw2/br0') forward or block, redrawn live (:mod:`labkit.stp_wait`)."""
        from .stp_wait import wait_stp

        return wait_stp(self, bridges, timeout=timeout, min_time=min_time, show=show)

    def capture(self, *devices: str, filter: str = "", count: int | None = None, duration: float | None = None,
                snaplen: int = 262144, show: bool | None = None) -> Capture:
        """Capture on each device ('veth1' in main, or 'h1/eth0') with tcpdump on the target.

        Use as ``with lab.capture("veth1", "lo", filter="icmp") as cap:``; returns once every
        tcpdump is listening, so no packet of the traffic that follows is missed. In a notebook
        its panes show at once and fill while the traffic runs (``show=False``: not)."""
        from .capture.session import Capture

        return Capture(self, devices, filter=filter, count=count, duration=duration, snaplen=snaplen, show=show)

    def view(self, capture: Capture | None = None, *, title: str | None = None) -> StepView:
        """The cell view: topology (changes since the last view highlighted), the commands the
        steps since the last view ran, and the capture's panes when one is given."""
        from .widgets.stepview import step_view

        return step_view(self, capture=capture, title=title)

    def __repr__(self) -> str:
        return f"<Lab {self.lab_id} on {self.target.name}: {len(self.history)} steps>"
