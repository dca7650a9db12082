"""`labkit lab` serves a working copy: a learner's Ctrl+S never dirties the repository's notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.cli import working_copy

pytestmark = pytest.mark.unit


def test_the_working_copy_keeps_what_the_learner_changed(tmp_path: Path) -> None:
    source, work = tmp_path / "notebooks", tmp_path / "work"
    source.mkdir()
    (source / "00-a.ipynb").write_text("pristine")
    (source / "README.md").write_text("index")
    (source / "build.py").write_text("not a lab")
    assert sorted(p.name for p in working_copy(source, work)) == ["00-a.ipynb", "README.md"]
    (work / "00-a.ipynb").write_text("the learner's outputs")
    (source / "01-b.ipynb").write_text("new lab")
    assert [p.name for p in working_copy(source, work)] == ["01-b.ipynb"]
    assert (work / "00-a.ipynb").read_text() == "the learner's outputs"
    working_copy(source, work, fresh=True)
    assert (work / "00-a.ipynb").read_text() == "pristine" and (source / "00-a.ipynb").read_text() == "pristine"
    assert not (work / "build.py").exists()


def test_labkit_lab_serves_a_checkout_beside_it_and_a_system_install_from_the_users_home(tmp_path: Path) -> None:
    from labkit.places import default_places

    checkout = tmp_path / "checkout"
    (checkout / "labkit").mkdir(parents=True)
    (checkout / "notebooks").mkdir()
    (checkout / "pyproject.toml").write_text("")
    assert default_places(checkout / "labkit") == (checkout / "notebooks", checkout / "work")
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "labkit"
    site.mkdir(parents=True)
    home = tmp_path / "home" / "ada"
    assert default_places(site, prefix=str(tmp_path / "venv"), home=home) == (
        tmp_path / "venv" / "share" / "labkit" / "notebooks", home / "labkit")
