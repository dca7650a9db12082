"""ifb, added as one file (labkit/kinds/ifb.py), works on the real kernel at once: made, "already so",
deleted and undone, probed by ``lab.supports``."""

from __future__ import annotations

import pytest

from labkit import Lab

pytestmark = pytest.mark.kernel


def test_an_ifb_device_is_made_kept_deleted_and_undone() -> None:
    with Lab(uplink=False) as lab:
        made = lab.device("ifb0", "ifb")
        assert made.did_change
        assert made.commands == ["ip link add name ifb0 type ifb"]
        itf = lab.snapshot().interface("ifb0")
        assert itf is not None and itf.kind == "ifb"
        mac = itf.mac

        again = lab.device("ifb0", "ifb")
        assert not again.did_change  # "already so"

        lab.delete("ifb0")
        assert lab.snapshot().interface("ifb0") is None
        lab.undo()
        back = lab.snapshot().interface("ifb0")
        assert back is not None and back.kind == "ifb"
        assert back.mac == mac, "the undo made it again with its MAC (an ifb cannot change its MAC later)"

        assert lab.supports("ifb") == {"ifb": True}
