"""A device kind the kernel has no module for: a KernelLacks error with the VM as the way out,
and the step's earlier ops rolled back (tested with a kind that no kernel has)."""

from __future__ import annotations

import os

import pytest

from labkit import kinds
from labkit.errors import KernelLacks
from labkit.kinds.base import Kind
from labkit.steps import ops
from labkit.targets.executors import EXECUTORS
from labkit.targets.kernel import Kernel

pytestmark = pytest.mark.kernel
NO_SUCH_KIND = "labkitnokind"  # no kernel has an rtnl-link module of this name


def test_a_kind_the_kernel_lacks_is_kernel_lacks_and_rolls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # declared to labkit (as a new kind file would), but no kernel has a module for it
    monkeypatch.setitem(kinds.KINDS, NO_SUCH_KIND, Kind(NO_SUCH_KIND, "a kind no kernel has", "labkit_nokind"))
    k = Kernel(f"kl{os.getpid() % 100000}", EXECUTORS)
    k.apply([ops.netns_add("main")])
    try:
        with pytest.raises(KernelLacks) as err:
            k.apply([ops.link_add("main", "kla", "veth", peer="klb"), ops.link_add("main", "kl0", NO_SUCH_KIND)])
        assert NO_SUCH_KIND in err.value.what and "labkit_nokind" in err.value.what and "Lab.vagrant()" in err.value.hint
        assert "earlier changes were undone" in err.value.hint
        assert k.link("main", "kla") is None
    finally:
        k.delete_ns("main")
        k.close()
