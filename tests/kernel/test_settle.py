"""The picture never contradicts the command just run: `up` waits for the operstate."""

from __future__ import annotations

import pytest

from labkit import Lab

pytestmark = pytest.mark.kernel


def test_both_ends_show_up_right_after_up() -> None:
    with Lab(uplink=False) as lab:
        wrong = []
        for i in range(30):
            lab.netns(f"s{i}")
            lab.veth(f"a{i}", f"b{i}", peer_ns=f"s{i}")
            lab.up(f"b{i}", ns=f"s{i}")
            lab.up(f"a{i}")
            snap = lab.snapshot()
            states = (snap.interface(f"a{i}", "main").state, snap.interface(f"b{i}", f"s{i}").state)  # type: ignore[union-attr]
            if states != ("UP", "UP"):
                wrong.append(states)
        assert not wrong, f"right after `ip link set up` the snapshot said {wrong}"
        lab.veth("lonely", "peer-down")
        lab.up("lonely")
        assert lab.snapshot().interface("lonely").state == "LOWERLAYERDOWN"  # type: ignore[union-attr]
