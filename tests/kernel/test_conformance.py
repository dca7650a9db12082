"""The target contract (tests/contract) against every local way to run the agent."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from labkit import Lab
from labkit.targets.local import LocalTarget, _userns_works
from tests.contract.target_contract import CONTRACT

pytestmark = pytest.mark.kernel


def _bootstrapped() -> object:
    from tests.contract.targets import SYSTEM_PYTHON, BootstrappedTarget

    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} (a bare python3, as in the guest) is not installed")
    return BootstrappedTarget()


TARGETS: dict[str, Callable[[], object]] = {
    "root": lambda: LocalTarget(mode="root"),
    "rootless": lambda: LocalTarget(mode="rootless"),
    "bootstrapped": _bootstrapped,
}


@pytest.fixture(params=list(TARGETS))
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    if request.param == "root" and os.geteuid() != 0:
        pytest.skip("the root target needs root")
    if request.param == "rootless" and not _userns_works():
        pytest.skip("user namespaces are not available here, so the rootless target cannot run")
    with Lab(TARGETS[request.param]()) as lab:  # type: ignore[arg-type]
        yield lab


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__.removeprefix("check_") for c in CONTRACT])
def test_target_honours_the_contract(lab: Lab, check: Callable[[Lab], None]) -> None:
    check(lab)
