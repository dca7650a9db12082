"""Shared test set-up: tiers by marker, and a reason printed for every skip."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "unit" / "data"

# Tests read labkit's English sentences: a developer whose locale is Chinese must get the same run.
# (Tests of the Chinese ones set the language themselves; kernels of notebooks/zh get LABKIT_LANG=zh.)
os.environ["LABKIT_LANG"] = "en"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "kernel", "notebooks", "browser", "vm") and not any(item.iter_markers(name=tier)):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def zh() -> Iterator[None]:
    """labkit speaks Simplified Chinese in this test's process (as ``language("zh")`` in a notebook), then goes back."""
    from labkit import i18n

    i18n.use("zh")
    yield
    i18n.use(None)


@pytest.fixture
def recorded() -> dict:
    """A raw dump recorded from a real lab: br0 (STP) with veth0 and v-h1, h1, tun0, tap0, macvlan, vxlan."""
    return json.loads((DATA / "bridge_lab.json").read_text())


@pytest.fixture
def recorded_after() -> dict:
    """The same lab after `bridge br1` + veth x0/x1 with x0 enslaved to br1."""
    return json.loads((DATA / "bridge_lab_after.json").read_text())


def is_root() -> bool:
    return os.geteuid() == 0
