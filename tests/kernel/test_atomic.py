"""A step is all or nothing, whatever goes wrong in the middle of it."""

from __future__ import annotations

import os

import pytest

from labkit.errors import StepFailed
from labkit.steps import ops
from labkit.targets import linkops
from labkit.targets.done import Done
from labkit.targets.executors import EXECUTORS
from labkit.targets.kernel import Kernel

pytestmark = pytest.mark.kernel


@pytest.fixture
def kernel():
    k = Kernel(f"at{os.getpid() % 100000}", EXECUTORS)
    k.apply([ops.netns_add("main")])
    yield k
    k.delete_ns("main")
    k.close()


def test_any_exception_rolls_the_step_back(kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(k: Kernel, op: object) -> Done:
        raise KeyError("no-such-user")  # a bug or an unexpected library error, not a LabkitError

    monkeypatch.setitem(linkops.EXECUTORS, "brport_set", broken)
    with pytest.raises(StepFailed, match="KeyError") as err:
        kernel.apply([ops.link_add("main", "ra", "veth", peer="rb"), ops.link_set("main", "ra", up=True),
                      ops.brport_set("main", "ra", cost=5)])
    assert "earlier changes were undone" in err.value.hint
    assert kernel.link("main", "ra") is None and kernel.link("main", "rb") is None


def test_an_undo_that_fails_is_reported(kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    real = linkops.EXECUTORS["link_del"]

    def refuse(k: Kernel, op: object) -> Done:
        raise StepFailed("the kernel said no")

    monkeypatch.setitem(linkops.EXECUTORS, "brport_set", refuse)
    monkeypatch.setitem(linkops.EXECUTORS, "link_del", refuse)
    with pytest.raises(StepFailed) as err:
        kernel.apply([ops.link_add("main", "ua", "veth", peer="ub"), ops.brport_set("main", "ua", cost=5)])
    assert "Undoing the step's earlier changes failed" in err.value.hint and "ip link del ua" in err.value.hint
    monkeypatch.setitem(linkops.EXECUTORS, "link_del", real)
    kernel.apply([ops.link_del("main", "ua")])
