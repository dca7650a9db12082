"""Every error labkit raises, in one small tree.

Each message says what failed, where, and what to do next, so a learner can
act on it without reading a traceback::

    LabkitError                      base: catch this at the cell boundary
    ├── InvalidInput                 a bad name, CIDR, number or option (nothing was changed)
    ├── NotFound                     a device or namespace that is not there
    ├── AlreadyExists                a name taken by something of another kind
    ├── WrongNamespace               the device exists, but in another namespace of the lab
    ├── KernelLacks                  this kernel has no such device kind (use the VM target)
    ├── NoPrivileges                 neither root, nor `sudo -n`, nor user namespaces
    ├── MissingTool                  a binary such as tcpdump or dot is not installed
    ├── StepFailed                   the kernel refused an operation; the partial work was undone
    ├── TargetError                  the agent or the VM went away or answered nonsense
    ├── Interrupted                  the learner pressed "Interrupt kernel": the request stopped, the lab is intact
    ├── CheckFailed                  a self-check found the kernel in another state (with a hint)
    ├── NotDone                      an exercise cell still holds its placeholder `...` (the learner's turn)
    └── CheckpointError              a checkpoint cannot be taken, read or replayed, or its replay gives another state
"""

from __future__ import annotations

from typing import Any

from .i18n import Text, localize, tr


class LabkitError(Exception):
    """Base of every labkit error: ``what`` failed, ``where``, and ``hint`` (what next)."""

    #: the word the notebook's box starts with (None: the class name); a failed check says "Not yet"
    box_title: str | None = None

    def __init__(self, what: str, *, where: str = "", hint: str = "") -> None:
        self.what = what  # a Text (see labkit.i18n) where it is a sentence for the learner
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """What failed, where, and what next, in the learner's language (:mod:`labkit.i18n`)."""
        what, where, hint = localize(self.what), localize(self.where), localize(self.hint)
        if where and hint:
            return localize(tr("{what} (in {where}). {hint}", what=what, where=where, hint=hint))
        if where:
            return localize(tr("{what} (in {where})", what=what, where=where))
        if hint:
            return localize(tr("{what}. {hint}", what=what, hint=hint))
        return what

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> list[str]:
        """How IPython shows this error: a readable box plus one line, not a page of frames.

        The cell still fails (so "Run all" stops and headless runs report it). IPython 9 asks
        twice for one exception, so the box is shown only the first time (remembered on the
        exception); the red line is returned every time."""
        if not getattr(self, "_labkit_shown", False):
            self._labkit_shown = True
            try:
                from IPython.display import HTML, display

                from .ipython import render

                display(HTML(render(self)))
            except Exception:
                pass
        return [f"\x1b[1;31m{type(self).__name__}\x1b[0m: {self.message}"]

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data, to cross the agent's pipe: English text, plus message ids and
        fields (``text``) so that the notebook's side shows it in the learner's language."""
        data: dict[str, Any] = {"type": type(self).__name__, "what": str.__str__(self.what),
                                "where": str.__str__(self.where), "hint": str.__str__(self.hint)}
        texts = {key: value.to_data() for key, value in (("what", self.what), ("where", self.where), ("hint", self.hint))
                 if isinstance(value, Text)}
        if texts:
            data["text"] = texts
        return data

    @staticmethod
    def from_dict(data: dict[str, Any]) -> LabkitError:
        """Rebuild an error sent by the agent, keeping its type and its message ids."""
        cls = _BY_NAME.get(data.get("type", ""), LabkitError)
        texts = data.get("text") or {}

        def part(key: str, default: str = "") -> str:
            return Text.from_data(texts[key]) if key in texts else data.get(key, default)

        return cls(part("what", "unknown error"), where=part("where"), hint=part("hint"))


class InvalidInput(LabkitError, ValueError):
    """The input is wrong before anything touches the kernel."""


class NotFound(LabkitError, LookupError):
    """A device, namespace or address the step needs is not there."""


class AlreadyExists(LabkitError):
    """The name is taken by a device of another kind or with other settings."""


class WrongNamespace(LabkitError):
    """The device exists, but in another namespace of this lab."""


class KernelLacks(LabkitError):
    """The running kernel cannot make this kind of device."""


class NoPrivileges(LabkitError, PermissionError):
    """labkit cannot get the rights it needs to change network namespaces."""


class MissingTool(LabkitError):
    """A binary the step needs is not installed on the target."""


class StepFailed(LabkitError):
    """The kernel refused an operation; everything the step did was undone."""


class TargetError(LabkitError):
    """The agent or the VM failed, went away, or could not be started."""


class Interrupted(LabkitError):
    """The learner interrupted a request; it was stopped on the target and the lab is intact."""

    #: the request's result, when it had finished before the interrupt reached it
    result: object = None


class CheckFailed(LabkitError, AssertionError):
    """A self-check read the kernel and found another state than the exercise asks for."""

    box_title = tr("Not yet")


class NotDone(LabkitError):
    """An exercise's cell still holds the placeholder the learner replaces: nothing was tried yet.

    Not a failed check: the grader reports such an exercise as "not done", and the box
    says where to write the answer."""

    box_title = tr("Not done yet")


class CheckpointError(LabkitError):
    """A checkpoint cannot be taken (a step it could not replay), read (a damaged file), or restored
    (a step fails on replay, or the rebuilt lab differs from the recorded state: the message names how)."""


_BY_NAME: dict[str, type[LabkitError]] = {
    cls.__name__: cls
    for cls in (
        LabkitError, InvalidInput, NotFound, AlreadyExists, WrongNamespace, KernelLacks,
        NoPrivileges, MissingTool, StepFailed, TargetError, Interrupted, CheckFailed, NotDone, CheckpointError,
    )
}
