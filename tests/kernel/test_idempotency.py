"""Idempotency tells the truth: "already so" only when the kernel's device is the one asked for.

A step on an existing device compares every setting it was given with what the kernel
reports (through the kind's declaration): equal is "already so", anything else is an
``AlreadyExists`` that lists the differences and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit import Lab
from labkit.errors import AlreadyExists

pytestmark = pytest.mark.kernel


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab(uplink=False) as lab:
        lab.netns("h1")
        lab.bridge("br0")
        lab.veth("va", "vb")
        lab.veth("vc", "vd")
        lab.vxlan("vx0", 42, remote="10.0.0.2", port=4789)
        lab.macvlan("mv0", "va", mode="bridge")
        yield lab


@pytest.mark.parametrize("again", [
    lambda lab: lab.bridge("br0"),
    lambda lab: lab.veth("va", "vb"),
    lambda lab: lab.vxlan("vx0", 42, remote="10.0.0.2"),
    lambda lab: lab.macvlan("mv0", "va"),
])
def test_the_same_request_again_is_already_so(lab: Lab, again: object) -> None:
    before = lab.snapshot()
    change = again(lab)  # type: ignore[operator]
    assert not change.did_change and change.status.startswith("already so")
    assert lab.snapshot().interfaces == before.interfaces


@pytest.mark.parametrize(("other", "difference"), [
    (lambda lab: lab.bridge("br0", stp=True), "stp True (the device has False)"),
    (lambda lab: lab.bridge("br0", forward_delay=4), "forward_delay 4.0 (the device has 15.0)"),
    (lambda lab: lab.vxlan("vx0", 7, remote="10.0.0.2"), "vni 7 (the device has 42)"),
    (lambda lab: lab.vxlan("vx0", 42, remote="10.0.0.3"), "remote '10.0.0.3' (the device has '10.0.0.2')"),
    (lambda lab: lab.vxlan("vx0", 42, group="239.1.1.1", dev="va"), "group '239.1.1.1' (the device has none)"),
    (lambda lab: lab.veth("va", "vd"), "peer 'vd' in main (the device's peer is vb in main)"),
    (lambda lab: lab.veth("va", "vb", peer_ns="h1"), "peer 'vb' in h1 (the device's peer is vb in main)"),
    (lambda lab: lab.macvlan("mv0", "va", mode="private"), "mode 'private' (the device has 'bridge')"),
    (lambda lab: lab.macvlan("mv0", "vc"), "parent 'vc' (the device's parent is va)"),
])
def test_a_different_request_says_what_differs_and_changes_nothing(lab: Lab, other: object, difference: str) -> None:
    before = lab.snapshot()
    with pytest.raises(AlreadyExists) as error:
        other(lab)  # type: ignore[operator]
    assert difference in error.value.what, error.value.what
    assert error.value.hint
    assert lab.snapshot().interfaces == before.interfaces


def test_turning_stp_on_is_a_step_of_its_own(lab: Lab) -> None:
    """The hint's way works: lab.stp changes only what differs, and says so the second time."""
    assert lab.stp("br0", on=True).did_change
    assert lab.snapshot().interface("br0").detail("stp") == 1
    assert not lab.stp("br0", on=True).did_change
    assert lab.bridge("br0", stp=True).status.startswith("already so")
