"""The live picture's redraws: debounced, and always once more after a burst, so the last change is drawn."""

from __future__ import annotations

import time
from typing import Any

import pytest

from labkit.state.parse import parse
from labkit.widgets import live


def _until(done: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


class _Lab:
    """A lab whose kernel state is the recorded one, then (after ``change``) the recorded 'after'."""

    def __init__(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        self.now, self.after = parse(before), parse(after)

    def snapshot(self) -> Any:
        return self.now


def test_a_burst_is_drawn_at_once_and_its_last_change_too(recorded: dict, recorded_after: dict,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "DEBOUNCE", 2.0)  # long, so a loaded machine's slow `dot` cannot blur the window
    lab = _Lab(recorded, recorded_after)
    picture = live.LiveTopology(lab, "test")
    first = picture.widget.svg
    picture.on_event({"ns": "main", "summary": "a change", "t": 0.0})
    _until(lambda: picture.redraws == 1, 1.5)
    assert picture.redraws == 1, "the first event of a burst is drawn at once"
    lab.now = lab.after  # the burst's last change, within the debounce window
    for n in range(5):
        picture.on_event({"ns": "main", "summary": f"change {n}", "t": 0.0})
    assert picture.redraws == 1
    _until(lambda: picture.redraws == 2, 4.0)
    assert picture.redraws == 2, "the end of the burst was not drawn"
    assert picture.widget.svg != first and "br1" in picture.widget.svg, "the last redraw did not show the last state"
    assert "br1" in picture.widget.svg and "#1f77b4" in picture.widget.svg, "a device new since the start is outlined blue"
    picture.finish()
