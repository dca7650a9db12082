"""Grouping steps: ``with lab.batch():`` (one atomic change, one round trip) and
``with lab.confirmed(timeout):`` (a change the target rolls back by itself unless
the controller still reaches it afterwards, like a router's commit-confirmed)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .errors import InvalidInput, StepFailed
from .i18n import localize, tr
from .results import Change
from .steps.base import Op, Step

if TYPE_CHECKING:
    from .lab import Lab


class Batch:
    """``with lab.batch():`` — the steps inside are planned, then applied at the end as one atomic step."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.change: Change | None = None
        self.planned: list[Step] = []

    def __enter__(self) -> Batch:
        if self.lab._batch is not None:
            raise InvalidInput(tr("batches do not nest"), hint=tr("end the first `with lab.batch():` block before starting another"))
        self.lab._batch = self.planned
        return self

    def _take(self) -> list[Step]:
        self.lab._batch = None
        return self.planned

    def __exit__(self, exc_type: object, *exc: object) -> None:
        planned = self._take()
        if exc_type is None and planned:
            ops = tuple(op for step in planned for op in step.ops)
            self.change = self.lab.apply(Step(tr("{count} steps in one batch", count=len(planned)), ops))

    def __repr__(self) -> str:
        if self.change is None:
            return localize(tr("<Batch of {count} planned steps>", count=len(self.planned)))
        done = sum(self.change.changed)
        return localize(tr("<Batch of {count} steps: {done} of {ops} ops changed the kernel>",
                           count=len(self.planned), done=done, ops=len(self.change.changed)))


class Confirmed(Batch):
    """``with lab.confirmed(timeout):`` — like a batch, applied as a commit-confirmed change."""

    def __init__(self, lab: Lab, timeout: float) -> None:
        super().__init__(lab)
        self.timeout = timeout
        self.kept: bool | None = None
        self.seconds = 0.0

    def __exit__(self, exc_type: object, *exc: object) -> None:
        planned = self._take()
        if exc_type is not None or not planned:
            return
        step = Step(tr("{count} steps, commit-confirmed", count=len(planned)), tuple(op for s in planned for op in s.ops))
        client = self.lab.target.client
        start = time.monotonic()
        answer = client.apply_confirmed([op.to_dict() for op in step.ops], timeout=self.timeout)
        verdict = client.confirm(answer["token"])  # only arrives if we can still reach it
        self.seconds = time.monotonic() - start
        self.kept = bool(verdict.get("kept"))
        if not self.kept:
            raise StepFailed(tr("the change cut the controller off, so the target rolled it back after {after} s; "
                                "the connection came back after {seconds:.1f} s",
                                after=verdict.get("rolled_back_after"), seconds=self.seconds),
                             hint=tr("apply the steps in an order that keeps the path to the controller (move_ip with the port)"))
        change = Change.from_results(step, answer["results"])
        change.undo_ops = [Op.from_dict(u) for u in verdict.get("undo", [])]
        change.confirmed = self.timeout
        self.change = change
        self.lab.history.append(change)
