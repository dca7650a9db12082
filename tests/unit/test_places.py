"""Where the notebooks are: a checkout, a system install, or where a container image put them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit import places

pytestmark = pytest.mark.unit


def test_an_image_names_its_notebooks_and_doctor_reads_the_shipped_code_cells(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cell = {"cell_type": "code", "source": ["lab = fresh_lab()\n", "requires(lab, kinds=['vxlan'])\n"]}
    prose = {"cell_type": "markdown", "source": ["lab.macvlan( in prose is not code"]}
    (tmp_path / "10-macvlan-vxlan.ipynb").write_text(json.dumps({"cells": [prose, cell]}))
    (tmp_path / "checkpoints").mkdir()
    monkeypatch.setenv("LABKIT_NOTEBOOKS", str(tmp_path))
    assert places.notebooks_dir() == tmp_path and places.checkpoints_dir() == tmp_path / "checkpoints"
    assert places.notebook_texts() == {"10-macvlan-vxlan": "lab = fresh_lab()\nrequires(lab, kinds=['vxlan'])\n"}


def test_a_checkout_reads_the_sources() -> None:
    texts = places.notebook_texts()
    assert "04-bridge" in texts and "lab.bridge(" in texts["04-bridge"]
    assert places.checkpoints_dir() == Path(places.__file__).resolve().parents[1] / "notebooks" / "checkpoints"
