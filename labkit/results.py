"""What a lab gives back: a :class:`Change` per step, a :class:`RunResult` per command,
a :class:`Background` handle per program running in the lab."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import LabkitError, NotFound
from .i18n import localize, tr
from .steps.base import Op, Step

if TYPE_CHECKING:
    from .targets.agent_client import AgentClient, OpResult


@dataclass
class Change:
    """What one step did: its ops, which of them changed the kernel, and how to undo them.

    A step planned inside ``with lab.batch():`` is ``planned``: it runs, with the
    whole batch, when the block ends."""

    step: Step
    changed: list[bool] = field(default_factory=list)
    undo_ops: list[Op] = field(default_factory=list)
    ran: list[str] | None = None
    planned: bool = False
    ran_in: list[tuple[str, str]] = field(default_factory=list)  # (namespace, command) of each command that ran
    confirmed: float | None = None  # the commit-confirmed timeout it was applied with (lab.confirmed)

    @staticmethod
    def from_results(step: Step, results: list[OpResult]) -> Change:
        """The change the agent reports for ``step`` (undo newest first)."""
        ran_in = [(str(r["op"].get("ns", "main")), c) for r in results if r["changed"]
                  for c in r.get("commands") or [r["op"]["command"]]]
        return Change(step, [r["changed"] for r in results],
                      [Op.from_dict(u) for r in reversed(results) for u in r["undo"]],
                      [c for _ns, c in ran_in], ran_in=ran_in)

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def commands(self) -> list[str]:
        """The exact commands that changed the kernel (or, when none did, those it planned)."""
        return self.ran if self.ran else self.step.commands

    @property
    def did_change(self) -> bool:
        return any(self.changed)

    @property
    def status(self) -> str:
        if self.planned:
            return tr("planned: runs when the batch ends")
        if not self.did_change:
            return tr("already so: nothing changed")
        return ""

    @property
    def caption(self) -> str:
        """The step's title and, when it did not simply run, why: in the learner's language."""
        return localize(tr("{title} ({status})", title=self.title, status=self.status) if self.status else self.title)

    def __repr__(self) -> str:
        mark = f"  ({localize(self.status)})" if self.status else ""
        return f"<Change {localize(self.title)!r}{mark}: " + "; ".join(self.commands) + ">"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(("… " if self.planned else "✔ ") + self.caption)
        for command in self.commands:
            p.break_()
            p.text(f"  $ {command}")


@dataclass
class RunResult:
    """The result of a command run inside the lab, like ``subprocess.CompletedProcess``.

    It shows itself whole (command, exit status, stdout and stderr), so a failure
    is never hidden behind ``.stdout``."""

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
            raise LabkitError(tr("`{command}` exited with {code}", command=" ".join(self.argv), code=self.returncode),
                              where=tr("namespace {ns}", ns=self.ns), hint=(self.stderr or self.stdout).strip()[-300:])

    def _status(self) -> str:
        return localize(tr("exit 0") if self.ok else tr("exit {code} (failed)", code=self.returncode))

    def __repr__(self) -> str:
        return f"<RunResult [{self.ns}]$ {' '.join(self.argv)} → {self._status()}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(f"[{self.ns}]$ {' '.join(self.argv)}   → {self._status()}")
        for label, text in (("", self.stdout), (tr("stderr: "), self.stderr)):
            if text.strip():
                p.break_()
                p.text(localize(label) + text.rstrip())

    def _repr_html_(self) -> str:
        from .ipython import ERROR_COLOUR, OK_COLOUR, TEXT

        colour = OK_COLOUR if self.ok else ERROR_COLOUR  # the border carries the colour; text keeps the theme's
        parts = [f'<div class="labkit-run" style="border-left:4px solid {colour};padding:2px 8px;color:{TEXT}">'
                 f'<code>[{html.escape(self.ns)}]$ {html.escape(" ".join(self.argv))}</code> '
                 f'<b>{"✔" if self.ok else "✘"} {html.escape(self._status())}</b>']
        for label, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                parts.append(f'<pre style="margin:2px 0" title="{label}">{html.escape(text.rstrip())}</pre>')
        return "".join(parts) + "</div>"


class Background:
    """A program running in the background inside the lab (a server, dnsmasq, a VPN)."""

    def __init__(self, client: AgentClient, pid: int, argv: list[str], ns: str, name: str | None = None) -> None:
        self.client, self.pid, self.argv, self.ns, self.name = client, pid, argv, ns, name

    def poll(self) -> dict[str, Any]:
        return dict(self.client.spawn_poll(self.pid))

    @property
    def output(self) -> str:
        return str(self.poll()["output"])

    @property
    def running(self) -> bool:
        """True while it runs; False once it exited or was stopped (also by a newer one of its name)."""
        try:
            return self.poll()["returncode"] is None
        except NotFound:
            return False

    def wait(self, timeout: float = 30.0) -> int | None:
        """Wait until it exits (or ``timeout`` s pass); its exit code, or None if still running."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.poll()["returncode"]
            if code is not None or time.monotonic() >= deadline:
                return None if code is None else int(code)
            time.sleep(0.05)

    def stop(self) -> str:
        """Stop it and return everything it printed."""
        return str(self.client.spawn_stop(self.pid)["output"])

    def __repr__(self) -> str:
        return localize(tr("<Background {name} pid {pid} in {ns}>", name=self.name or self.argv[0], pid=self.pid, ns=self.ns))
