"""The renderer is pure: a recorded snapshot gives the same DOT text every time (golden files).

Regenerate after an intended change with: LABKIT_UPDATE_GOLDEN=1 pytest tests/unit/test_render.py
"""

import os
from pathlib import Path

import pytest

from labkit.render.dot import quote, to_dot
from labkit.render.graph import build, label_of
from labkit.state.diff import diff
from labkit.state.parse import parse

GOLDEN = Path(__file__).parent.parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LABKIT_UPDATE_GOLDEN") or not path.exists():
        path.write_text(text)
        if not os.environ.get("LABKIT_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {name} was missing and has been written; check it and run again")
    assert text == path.read_text()


def test_bridge_lab_dot_matches_golden(recorded: dict) -> None:
    check_golden("bridge_lab.dot", to_dot(build(parse(recorded))))


def test_changes_and_packet_paths_are_highlighted(recorded: dict, recorded_after: dict) -> None:
    before, after = parse(recorded), parse(recorded_after)
    dot = to_dot(build(after, diff(before, after), paths={"main/veth1": 2, "main/lo": 2}))
    check_golden("bridge_lab_changes.dot", dot)
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith('"main/br1" ['))
    assert 'color="#1f77b4"' in line and 'penwidth="3"' in line, "a new device is outlined"
    lo = next(ln for ln in dot.splitlines() if ln.strip().startswith('"main/lo" ['))
    assert "2 pkts" in lo and 'color="#d62728"' in lo, "a device that saw the flow is coloured with its count"


def test_stp_states_style_the_port_edges(recorded: dict) -> None:
    dot = to_dot(build(parse(recorded)))
    port_edge = next(ln for ln in dot.splitlines() if '"main/veth0" -- "main/br0"' in ln)
    assert 'label="forwarding"' in port_edge and 'color="#2ca02c"' in port_edge


def test_bridge_ports_are_cut_off_from_the_ip_stack(recorded: dict) -> None:
    dot = to_dot(build(parse(recorded)))
    assert '"stack:main" -- "main/veth1"' in dot
    assert '"stack:main" -- "main/veth0"' not in dot, "an enslaved port no longer hands frames to the stack"


def test_labels_show_kind_mac_addresses_state(recorded: dict) -> None:
    snap = parse(recorded)
    text = label_of(snap.interface("br0"))
    assert text.startswith("br0  [bridge]") and "20.1.0.10/24" in text and snap.interface("br0").mac in text
    assert "no program" in label_of(snap.interface("tap0"))
    assert "mtu 1450" in label_of(snap.interface("vx0"))


def test_quote_escapes() -> None:
    assert quote('a"b\nc') == '"a\\"b\\nc"'
