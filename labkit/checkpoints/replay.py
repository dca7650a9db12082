"""Taking a checkpoint of a live lab, and rebuilding a lab from one.

**Take** (``lab.checkpoint(name)``): refuse what a replay could not redo (a command known
to change the kernel run with ``lab.run``, a background program still running, a tun/tap
device whose file descriptor this notebook holds); let the kernel settle (STP ports done
listening and learning, carriers and operational states no longer moving); then record the
steps and the snapshot's normal form (:mod:`.form`).

**Restore** (``Lab.restore(checkpoint)``): a new lab with the recorded options, the steps
applied again in order, exactly as recorded (each atomically, as the first time), then the
kernel is read back until its normal form is the recorded one. If it is not within the
settle time, the lab is removed and :class:`~labkit.errors.CheckpointError` lists each
difference, as labkit's snapshot diff words it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CheckpointError, LabkitError
from ..i18n import joined, tr
from ..model import Snapshot
from ..results import Background
from ..tundev import TunDevice
from .form import Checkpoint, RecordedStep, RunRecord, differences, fixed_macs, normal_form, set_sysctls
from .runs import changes_kernel, step_for

if TYPE_CHECKING:
    from ..lab import Lab

#: seconds without change after which the kernel is taken as settled (linkwatch reports carrier changes within 1 s)
QUIET = 1.0
#: the longest a restore waits for the rebuilt lab to reach the recorded state (after STP settled)
SETTLE = 10.0


def _refusals(lab: Lab) -> list[str]:  # each a tr() sentence
    """What this lab did that a replay could not redo, each with what to do instead."""
    found: list[str] = []
    for run in lab.runs:
        if run.how == "run" and changes_kernel(run.argv):
            found.append(tr("{command} after step {after} changes the kernel outside a step: use {step} instead "
                            "(a step can be replayed), or checkpoint before it",
                            command=run.shown, after=run.after, step=step_for(run.argv)))
    for held in lab.held:
        if isinstance(held, Background) and held.running:
            found.append(tr("the background program {command!r} (lab.spawn, pid {pid} in {ns}) still runs: "
                            "a restore cannot bring a running process back; stop it first",
                            command=" ".join(held.argv), pid=held.pid, ns=held.ns))
        elif isinstance(held, TunDevice) and not held.closed:
            found.append(tr("{ns}/{name} exists only while this notebook holds its file descriptor (lab.tun_open): "
                            "close it first (dev.close()), or make it with lab.tuntap(...) instead",
                            ns=held.ns, name=held.name))
    return found


def stp_bridges(snap: Snapshot) -> list[str]:
    """'ns/name' of every bridge with STP on that has a port: their ports move by themselves for a while."""
    return [itf.key for itf in snap.interfaces if itf.kind == "bridge" and itf.detail("stp")
            and any(p.master == itf.name and p.namespace == itf.namespace for p in snap.interfaces)]


def settled_state(lab: Lab, fixed: frozenset[str], timeout: float = 30.0,
                  sysctls: frozenset[tuple[str, str]] | None = None) -> Snapshot:
    """The lab's normal form once STP has converged and nothing moved for :data:`QUIET` seconds."""
    bridges = stp_bridges(lab.snapshot())
    if bridges:
        lab.wait_stp(*bridges, timeout=60, show=False)
    deadline = time.monotonic() + timeout
    last = normal_form(lab.snapshot(), fixed, sysctls)
    while True:
        time.sleep(QUIET)
        now = normal_form(lab.snapshot(), fixed, sysctls)
        if now == last or time.monotonic() > deadline:
            return now
        last = now


def take(lab: Lab, name: str, *, path: str | Path | None = None, notebook: str | None = None) -> Checkpoint:
    """``lab.checkpoint("step-3", path=None)``: record this point of the lab, to rebuild it later with ``Lab.restore``.

    The checkpoint holds the lab's steps and the state they gave (saved to ``path`` when
    given). What a replay could not redo (``lab.run("ip", "link", "set", …)``, a running
    ``lab.spawn``, an open ``lab.tun_open``) raises :class:`~labkit.errors.CheckpointError`, naming it."""
    if not name or "/" in name or name.startswith("."):
        raise CheckpointError(tr("{name!r} is not a checkpoint name", name=name), hint=tr("use a short word such as 'step-3'"))
    refused = _refusals(lab)
    if refused:
        raise CheckpointError(tr("checkpoint {name!r} could not be replayed: {reasons}", name=name, reasons=joined(refused)),
                              where=tr("lab {lab}", lab=lab.lab_id), hint=tr("a checkpoint replays the lab's steps, nothing else"))
    steps = tuple(RecordedStep(change.step, change.confirmed) for change in lab.history if not change.planned)
    fixed = fixed_macs(steps)
    state = settled_state(lab, fixed, sysctls=set_sysctls(steps))
    point = Checkpoint(name, steps, state, uplink=lab.uplink, notebook=notebook,
                       not_replayed=tuple(run for run in lab.runs))
    if path is not None:
        point.save(path)
    return point


def _replay(lab: Lab, point: Checkpoint) -> None:
    for number, recorded in enumerate(point.steps, 1):
        try:
            if recorded.confirmed is not None:
                with lab.confirmed(recorded.confirmed):
                    lab.apply(recorded.step)
            else:
                lab.apply(recorded.step)
        except LabkitError as exc:
            raise CheckpointError(tr("step {number} of {total} of checkpoint {label!r}, {title!r}, failed on replay: {what}",
                                     number=number, total=len(point.steps), label=point.label, title=recorded.step.title,
                                     what=exc.what),
                                  where=exc.where or tr("lab {lab}", lab=lab.lab_id),
                                  hint=exc.hint or tr("the checkpoint was made on another kernel, or edited")) from exc


def verify(lab: Lab, point: Checkpoint, settle: float = SETTLE) -> Snapshot:
    """Wait until ``lab`` holds ``point``'s state; raise, naming each difference, if it does not in time."""
    fixed = fixed_macs(point.steps)
    bridges = stp_bridges(lab.snapshot())
    if bridges:
        lab.wait_stp(*bridges, timeout=60, show=False)
    deadline = time.monotonic() + settle
    while True:
        found = normal_form(lab.snapshot(), fixed, set_sysctls(point.steps))
        if found == point.state:
            return found
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    lines = differences(point.state, found)
    skipped = [run.shown for run in point.not_replayed][-5:]
    shown = "; ".join(lines[:12])
    if len(lines) > 12:
        shown = tr("{differences}; … and {more} more", differences=shown, more=len(lines) - 12)
    again = tr("A checkpoint that no longer matches its notebook is made again with `python -m labkit.checkpoints`")
    raise CheckpointError(
        tr("the lab rebuilt from checkpoint {label!r} differs from the recorded state in {count} place(s) "
           "(- recorded only, + rebuilt only, ~ recorded → rebuilt): {differences}",
           label=point.label, count=len(lines), differences=shown),
        where=tr("lab {lab}", lab=lab.lab_id),
        hint=tr("not replayed, and so a possible cause: {runs}. {again}", runs=", ".join(skipped), again=again) if skipped
        else again)


def restore(factory: type[Lab], point: Checkpoint | str | Path, **options: Any) -> Lab:
    """``Lab.restore(checkpoint or file, **options)``: a new lab (``options`` as for ``Lab()``) rebuilt
    to the checkpoint by replaying its steps, then read back and checked against the recorded state."""
    if not isinstance(point, Checkpoint):
        point = Checkpoint.load(point)
    lab: Lab = factory(uplink=point.uplink, **options)
    try:
        _replay(lab, point)
        verify(lab, point)
    except BaseException:
        lab.close()
        raise
    return lab


def record(lab: Lab, how: str, argv: list[str], ns: str, returncode: int | None = None) -> None:
    """Remember a command of the lab, after how many of its steps it ran (see :class:`.form.RunRecord`)."""
    lab.runs.append(RunRecord(len(lab.history), tuple(argv), ns, how, returncode))
