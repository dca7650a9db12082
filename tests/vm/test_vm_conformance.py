"""The target contract (tests/contract) against the Vagrant VM, over its one SSH connection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from labkit import Lab
from tests.contract.target_contract import CONTRACT
from tests.vm.test_vm_target import target_for

pytestmark = pytest.mark.vm


@pytest.fixture(scope="module")
def vm_contract_lab(vm: Any) -> Iterator[Lab]:
    with Lab(target_for(vm)) as lab:  # one agent start (slow under TCG) for the whole contract
        yield lab


@pytest.mark.parametrize("check", CONTRACT, ids=[c.__name__.removeprefix("check_") for c in CONTRACT])
def test_vm_honours_the_contract(vm_contract_lab: Lab, check: Callable[[Lab], None]) -> None:
    vm_contract_lab.reset()
    check(vm_contract_lab)
