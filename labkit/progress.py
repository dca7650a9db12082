"""Progress of long operations (a VM booting): pure phase tracking plus two reporters.

``vagrant up --machine-readable`` prints ``timestamp,target,type,data...`` lines; the
``ui`` lines carry what a person would read ("Creating domain...", "Waiting for SSH").
:func:`phase_of` maps such a message onto a known phase, so the bar moves through
fixed steps instead of guessing percentages.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol

from .i18n import localize, tr

#: (what Vagrant prints, the phase as the bar names it: a ``tr()`` sentence, shown in the learner's language)
PHASES = (
    ("Bringing machine", tr("starting vagrant")),
    ("Creating image", tr("creating the disk from the box")),
    ("Creating domain", tr("defining the VM")),
    ("Starting domain", tr("starting the VM")),
    ("Waiting for domain to get an IP", tr("waiting for the VM's network")),
    ("Waiting for machine to boot", tr("waiting for the guest to boot")),
    ("Machine booted and ready", tr("guest is up")),
    ("Rsyncing folder", tr("syncing the repository")),
    ("Running provisioner", tr("provisioning")),
)


def parse_machine_readable(line: str) -> tuple[str, str, list[str]] | None:
    """``ts,target,type,data...`` → (target, type, data) with Vagrant's escapes undone."""
    parts = line.rstrip("\n").split(",")
    if len(parts) < 3 or not parts[0].isdigit():
        return None
    data = [p.replace("%!(VAGRANT_COMMA)", ",").replace("\\n", "\n").replace("\\r", "") for p in parts[3:]]
    return parts[1], parts[2], data


def phase_of(message: str) -> int | None:
    """The index of the phase a ui message announces, or None."""
    for index, (marker, _label) in enumerate(PHASES):
        if marker.lower() in message.lower():
            return index
    return None


class Progress(Protocol):
    """Where a long operation reports its phase; ``text`` may be a ``tr()`` sentence (localized when shown)."""

    def update(self, fraction: float, text: str) -> None: ...

    def done(self, text: str) -> None: ...


class TerminalProgress:
    """A line per phase on stderr: ``[ 3/9] starting the VM (12 s)``."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.last = ""
        print(f"{localize(title)}…", file=sys.stderr, flush=True)

    def update(self, fraction: float, text: str) -> None:
        if text != self.last:
            print(f"  [{int(fraction * 100):3d}%] {localize(text)}", file=sys.stderr, flush=True)
            self.last = text

    def done(self, text: str) -> None:
        print(f"  [100%] {localize(text)}", file=sys.stderr, flush=True)


class WidgetProgress:
    """An ipywidgets bar with the current phase, for a notebook cell."""

    def __init__(self, title: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, description=localize(title)[:20],
                                          bar_style="info")
        self.label = widgets.Label(value="")
        self.box: Any = widgets.HBox([self.bar, self.label])
        display(self.box)

    def update(self, fraction: float, text: str) -> None:
        self.bar.value = fraction
        self.label.value = localize(text)

    def done(self, text: str) -> None:
        self.bar.value = 1.0
        self.bar.bar_style = "success"
        self.label.value = localize(text)


def default_progress(title: str) -> Progress:
    """A widget inside a Jupyter kernel, lines on the terminal otherwise."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
            return WidgetProgress(title)
    except ImportError:
        pass
    return TerminalProgress(title)
