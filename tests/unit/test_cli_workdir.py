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


def test_the_working_copy_holds_the_chinese_learners_edition_in_zh_and_never_its_solutions(tmp_path: Path) -> None:
    source, work = tmp_path / "notebooks", tmp_path / "work"
    (source / "zh" / "solutions").mkdir(parents=True)
    (source / "04-bridge.ipynb").write_text("english")
    (source / "zh" / "04-bridge.ipynb").write_text("中文")
    (source / "zh" / "README.md").write_text("索引")
    (source / "zh" / "solutions" / "04-bridge.ipynb").write_text("answers")
    copied = working_copy(source, work)
    assert sorted(str(p.relative_to(work)) for p in copied) == ["04-bridge.ipynb", "zh/04-bridge.ipynb", "zh/README.md"]
    assert (work / "zh" / "04-bridge.ipynb").read_text() == "中文" and not (work / "zh" / "solutions").exists()
    (work / "zh" / "04-bridge.ipynb").write_text("学员的作业")
    assert working_copy(source, work) == []
    assert (work / "zh" / "04-bridge.ipynb").read_text() == "学员的作业"
    working_copy(source, work, fresh=True)
    texts = {str(p.relative_to(work)): p.read_text() for p in work.rglob("*") if p.is_file()}
    assert texts == {"04-bridge.ipynb": "english", "zh/04-bridge.ipynb": "中文", "zh/README.md": "索引"}


def test_labkit_lab_lang_zh_opens_the_chinese_folder_with_labkit_lang_set(tmp_path: Path) -> None:
    from labkit.cli import lab_language, main
    from labkit.errors import NotFound

    (tmp_path / "zh").mkdir()
    assert lab_language("zh", tmp_path) == (
        {"LABKIT_LANG": "zh"}, ["--LabApp.default_url=/lab/tree/zh", "--ServerApp.default_url=/lab/tree/zh"])
    assert lab_language("en", tmp_path) == ({"LABKIT_LANG": "en"}, [])
    assert lab_language(None, tmp_path) == ({}, [])
    with pytest.raises(NotFound, match="no folder"):
        lab_language("zh", tmp_path / "elsewhere")
    with pytest.raises(SystemExit):  # argparse: a language the labs are not translated into
        main(["lab", "--lang", "fr", "--workdir", str(tmp_path)])


def test_the_repositorys_notebooks_have_a_chinese_edition_that_labkit_lab_finds() -> None:
    from labkit.places import default_places, translations

    notebooks, _ = default_places()
    assert translations(notebooks) == {"zh": notebooks / "zh"}
    assert len(list((notebooks / "zh").glob("[0-9][0-9]-*.ipynb"))) == len(list(notebooks.glob("[0-9][0-9]-*.ipynb")))
