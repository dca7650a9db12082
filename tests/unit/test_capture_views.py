"""The cell view and the interactive topology, in plain Python (the browser tier clicks them for real)."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from labkit.render.dot import to_dot
from labkit.render.graph import build
from labkit.state.diff import diff
from labkit.state.parse import parse
from labkit.widgets.stepview import commands_html, step_view
from labkit.widgets.topology import HERE, TopologyWidget, details_of


def test_details_cover_every_interface_node_of_the_picture(recorded: dict) -> None:
    snap = parse(recorded)
    details = details_of(snap, {"main/veth0": 3})
    ids = set(re.findall(r'id="(itf-[^"]+)"', to_dot(build(snap))))
    assert ids and ids <= set(details)
    port = next(d for d in details.values() if d["stp_state"])
    assert port["master"] and port["state"] and "rx_packets" in port["stats"]
    assert details["itf-main/veth0"]["captured"] == 3
    assert all(isinstance(d["mtu"], int) and isinstance(d["addresses"], list) for d in details.values())


def test_topology_widget_ships_its_javascript_without_a_cdn() -> None:
    js = (HERE / "topology.js").read_text()
    assert "export default" in js and "http" not in js.replace("http://www.w3.org", "")
    widget = TopologyWidget("<svg></svg>", {"itf-main/lo": {"name": "lo"}})
    assert widget.svg == "<svg></svg>" and widget.selected == ""


class Change:
    def __init__(self, title: str, commands: list[str], did_change: bool = True) -> None:
        self.title, self.commands, self.did_change = title, commands, did_change


def test_commands_are_escaped_and_unchanged_steps_marked() -> None:
    text = commands_html([Change("Add <veth>", ["ip link add veth0 type veth peer name veth1"]),
                          Change("Up", ["ip link set dev veth0 up"], did_change=False)])
    assert "# Add &lt;veth&gt;" in text and "$ ip link add veth0 type veth peer name veth1" in text
    assert "already so: nothing changed" in text
    assert "no new commands" in commands_html([])


class FakeLab:
    """Just what step_view reads from a Lab."""

    def __init__(self, raw: dict, raw_after: dict) -> None:
        self.snaps = [parse(raw), parse(raw_after)]
        self._shown: Any = None
        self.history = [Change("Add a bridge", ["ip link add name br1 type bridge"])]
        self._view_mark = 0

    def changes(self) -> tuple[Any, Any]:
        now = self.snaps.pop(0) if len(self.snaps) > 1 else self.snaps[0]
        delta = diff(self._shown, now) if self._shown is not None else diff(now, now)
        self._shown = now
        return now, delta


@pytest.mark.skipif(shutil.which("neato") is None, reason="Graphviz `neato` is not installed")
def test_step_view_shows_picture_commands_once_and_advances_the_mark(recorded: dict, recorded_after: dict) -> None:
    lab = FakeLab(recorded, recorded_after)
    first = step_view(lab, title="first")
    kinds = [type(child).__name__ for child in first.children]
    assert kinds == ["HTML", "HTML", "TopologyWidget", "HTML", "HTML"]
    assert "labkit-legend" in first.children[3].value and "blocking" in first.children[3].value
    assert "ip link add name br1 type bridge" in first.children[4].value
    assert lab._view_mark == 1
    second = step_view(lab)
    assert "no new commands" in second.children[-1].value
    assert "changes since the last view" in second.children[0].value
    assert "<svg" in second.children[1].svg


def test_node_ids_never_collide() -> None:
    from labkit.model import Interface

    one = Interface("c", "a-b", 1, "veth", None, 1500, "UP", ())
    other = Interface("b-c", "a", 2, "veth", None, 1500, "UP", ())
    assert one.node_id != other.node_id
