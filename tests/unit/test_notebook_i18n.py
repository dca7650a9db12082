"""One source, two languages: a notebook's prose in Chinese comes from a gettext catalogue
(``notebooks/locale/zh/NN-name.po``: msgid an English markdown cell, msgstr its translation),
its code from the one English source. Pure: these read and write files only."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from labkit.notebook import PLACEHOLDER
from notebooks import build as BUILD  # notebooks/build.py: the repository root is on the path

pytestmark = pytest.mark.unit

TRANSLATED = [s for s in BUILD.sources() if BUILD.catalogue_path(s, "zh").exists()]
IDS = [s.stem for s in TRANSLATED]

SOURCE = '''# %% [markdown]
# # A lab
#
# Ping `veth1` from `veth0`.

# %%
lab = fresh_lab()

# %% [markdown]
# ## Step 1 · the cable
#
# Create the pair; the kernel prints `NO-CARRIER`.

# %%
lab.veth("veth0", "veth1")
'''


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-source notebook tree in tmp_path: src/90-tiny.py, locale/, built editions beside them."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "90-tiny.py").write_text(SOURCE, encoding="utf-8")
    monkeypatch.setattr(BUILD, "SRC", src)
    monkeypatch.setattr(BUILD, "LOCALE", tmp_path / "locale")
    monkeypatch.setattr(BUILD, "HERE", tmp_path)
    editions = tuple(e._replace(folder=tmp_path / e.folder.relative_to(Path(BUILD.__file__).parent)) for e in BUILD.EDITIONS)
    monkeypatch.setattr(BUILD, "EDITIONS", editions)
    return src / "90-tiny.py"


def fill(source: Path, table: dict[str, str]) -> None:
    """Translate the messages whose English starts with a key of ``table``, as a translator would."""
    path = BUILD.catalogue_path(source, "zh")
    cat = BUILD.read_catalogue(path)
    for message in cat:
        for start, zh in table.items():
            if message.id and message.id.startswith(start):
                message.string = zh
                message.flags.discard("fuzzy")
    path.write_text(BUILD.po_text(cat), encoding="utf-8")


def test_extraction_keeps_translations_and_marks_changed_cells_fuzzy(tiny: Path) -> None:
    BUILD.extract(tiny, "zh")
    assert BUILD.untranslated(tiny, "zh") == ["90-00", "90-02"]
    fill(tiny, {"# A lab": "# 一个实验\n\n从 `veth0` ping `veth1`。",
                "## Step 1": "## 第 1 步 · 网线\n\n创建这一对；内核打印 `NO-CARRIER`。"})
    assert BUILD.untranslated(tiny, "zh") == []
    before = BUILD.catalogue_path(tiny, "zh").read_text(encoding="utf-8")
    BUILD.extract(tiny, "zh")
    assert BUILD.catalogue_path(tiny, "zh").read_text(encoding="utf-8") == before, "extract twice changed the catalogue"
    # the English changes: step 1's text edited, a new markdown cell added
    tiny.write_text(SOURCE.replace("the kernel prints", "the kernel may print")
                    + "\n# %% [markdown]\n# What you saw: a cable.\n", encoding="utf-8")
    BUILD.extract(tiny, "zh")
    cat = {m.id: m for m in BUILD.read_catalogue(BUILD.catalogue_path(tiny, "zh")) if m.id}
    first, step, new = (cat[text] for _, text in BUILD.messages(tiny))
    assert first.string.startswith("# 一个实验") and not first.fuzzy, "an unchanged cell lost its translation"
    assert step.fuzzy and step.string.startswith("## 第 1 步"), "a changed cell should keep its old translation, fuzzy"
    assert new.string == "" and not new.fuzzy
    assert BUILD.untranslated(tiny, "zh") == ["90-02", "90-04"], "fuzzy and empty translations do not count"


def test_a_missing_translation_fails_the_check_naming_the_cell(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    BUILD.extract(tiny, "zh")
    fill(tiny, {"# A lab": "# 一个实验\n\n从 `veth0` ping `veth1`。"})
    assert BUILD.main([]) == 0
    assert not (BUILD.edition("learner", "zh").folder / "90-tiny.ipynb").exists(), "built with a cell untranslated"
    assert BUILD.main(["--check"]) == 1
    told = [line for line in capsys.readouterr().out.splitlines() if line.startswith("untranslated:")]
    assert len(told) == 1 and "locale/zh/90-tiny.po: markdown cells 90-02 (" in told[0], told
    with pytest.raises(BUILD.Untranslated, match="90-02"):
        BUILD.build(tiny, BUILD.edition("instructor", "zh"))
    fill(tiny, {"## Step 1": "## 第 1 步 · 网线\n\n创建这一对；内核打印 `NO-CARRIER`。"})
    assert BUILD.main([]) == 0
    assert BUILD.main(["--check"]) == 0
    built = BUILD.build(tiny, BUILD.edition("learner", "zh"))
    assert built.metadata["labkit"] == {"notebook": "90-tiny", "edition": "learner", "language": "zh"}
    assert built.cells[0].source.startswith("# 一个实验")


def test_a_source_without_catalogue_fails_the_check_and_has_no_translated_edition(
        tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert BUILD.main([]) == 0
    assert (BUILD.edition("learner").folder / "90-tiny.ipynb").exists()
    assert not BUILD.edition("learner", "zh").folder.exists()
    assert BUILD.main(["--check"]) == 1
    assert "locale/zh/90-tiny.po: markdown cells 90-00, 90-02 (" in capsys.readouterr().out


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_every_markdown_cell_has_its_translation(source: Path) -> None:
    missing = BUILD.untranslated(source, "zh")
    assert not missing, (f"{BUILD.catalogue_path(source, 'zh').name}: cells {missing} have no Chinese translation "
                         "(python notebooks/build.py --extract zh, then fill their msgstr)")


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_the_built_chinese_notebooks_are_in_sync(source: Path) -> None:
    for edition in (BUILD.edition("learner", "zh"), BUILD.edition("instructor", "zh")):
        assert BUILD.in_sync(source, edition), f"{BUILD.target_of(source, edition)} is out of date (python notebooks/build.py)"


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_code_cells_are_identical_across_languages(source: Path) -> None:
    for name in ("instructor", "learner"):
        en, zh = (BUILD.build(source, BUILD.edition(name, lang)) for lang in ("en", "zh"))
        assert [(c.cell_type, c.id, BUILD.tags_of(c)) for c in en.cells] == [(c.cell_type, c.id, BUILD.tags_of(c)) for c in zh.cells]
        for a, b in zip(en.cells, zh.cells, strict=True):
            if a.cell_type != "code":
                assert a.source != b.source, f"{name}: markdown cell {a.id} was not translated"
                continue
            assert a.metadata.get("nbgrader") == b.metadata.get("nbgrader")
            if name == "learner" and a.metadata.get("nbgrader", {}).get("solution"):
                # the to-do cell: only its comment lines are in the learner's language
                assert a.source.splitlines()[-1] == b.source.splitlines()[-1] == PLACEHOLDER
                assert b.source.startswith("# 练习")
            else:
                assert a.source == b.source, f"{name}: code cell {a.id} differs between English and Chinese"


def spans(text: str) -> dict[str, Counter[str]]:
    """What a translation must carry over unchanged: code blocks and spans, format fields, links' targets, heading levels."""
    blocks = re.findall(r"^```.*?^```", text, re.M | re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    code = re.findall(r"`[^`]+`", text)
    bare = re.sub(r"`[^`]+`", "", text)
    return {"code blocks": Counter(blocks), "code spans": Counter(code),
            "format fields": Counter(re.findall(r"\{[^{}\s]*\}", bare)),
            "link targets": Counter(re.findall(r"\]\(([^)]+)\)", text)),
            "headings": Counter(m.group(1) for m in re.finditer(r"^(#+) ", text, re.M))}


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_commands_and_placeholders_survive_translation(source: Path) -> None:
    table = BUILD.translations(source, "zh")
    for cell_id, english in BUILD.messages(source):
        want, got = spans(english), spans(table[english])
        for kind in want:
            assert got[kind] == want[kind], (f"cell {cell_id}: the translation's {kind} differ: "
                                             f"missing {dict(want[kind] - got[kind])}, extra {dict(got[kind] - want[kind])}")


def test_spans_sees_code_fields_links_and_headings() -> None:
    got = spans("## Step `ip link` {name} [x](y.ipynb) `{kept}`\n```\nip a # {x}\n```\n")
    assert got == {"code blocks": Counter(["```\nip a # {x}\n```"]), "code spans": Counter(["`ip link`", "`{kept}`"]), "format fields": Counter(["{name}"]),
                   "link targets": Counter(["y.ipynb"]), "headings": Counter(["##"])}


def test_the_chinese_index_lists_every_chinese_notebook() -> None:
    index = (BUILD.HERE / "zh" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\((\d\d-[\w-]+)\.ipynb\)", index))
    assert listed == {s.stem for s in TRANSLATED}, f"notebooks/zh/README.md lists {sorted(listed)}"


def test_every_lab_has_a_chinese_catalogue() -> None:
    missing = [s.stem for s in BUILD.sources() if s not in TRANSLATED]
    assert not missing, f"no notebooks/locale/zh/ catalogue for {missing} (python notebooks/build.py --extract zh NN)"
    assert BUILD.missing_translations() == {}


def avoided() -> dict[str, str]:
    """The glossary's "Avoid" list: a variant → the term to use instead."""
    text = (BUILD.HERE.parent / "docs" / "glossary.zh.md").read_text(encoding="utf-8").split("## Avoid", 1)[1]
    return dict(re.findall(r"^- (\S+) → (.+)$", text, re.M))


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_translations_use_the_glossary_terms(source: Path) -> None:
    assert avoided(), "docs/glossary.zh.md has no Avoid list"
    for english, chinese in BUILD.translations(source, "zh").items():
        for variant, use in avoided().items():
            assert variant not in chinese, f"{source.stem}: {variant!r} in the translation of {english[:60]!r}: use {use}"


def unclosed_emphasis(text: str) -> list[str]:
    """``**`` / ``*`` pairs that CommonMark (and JupyterLab's renderer) would show as literal stars.

    Chinese has no spaces, so ``**地址转换（NAT）**后`` cannot close: a closing run preceded by
    punctuation must be followed by space or punctuation (CommonMark's "right-flanking" rule)."""
    def punct(c: str) -> bool:
        return c == "" or unicodedata.category(c)[0] in "PS"

    def space(c: str) -> bool:
        return c == "" or c.isspace()

    bad = []
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    text = re.sub(r"`[^`]+`", "x", text)
    text = re.sub(r"^\s*[*-] ", "", text, flags=re.M)  # list bullets
    for run in (r"\*\*", r"(?<!\*)\*(?!\*)"):
        spots = [m.start() for m in re.finditer(run, text)]
        width = 2 if run == r"\*\*" else 1
        for start, end in zip(spots[::2], spots[1::2], strict=False):
            before, after = text[start - 1] if start else "", text[start + width]
            if space(after) or (punct(after) and not (space(before) or punct(before))):
                bad.append(text[max(0, start - 10): start + 20])
            before, after = text[end - 1], text[end + width] if end + width < len(text) else ""
            if space(before) or (punct(before) and not (space(after) or punct(after))):
                bad.append(text[max(0, end - 20): end + 10])
        text = re.sub(run, "", text)
    return bad


def test_unclosed_emphasis_is_found() -> None:
    assert unclosed_emphasis("做**地址转换（NAT）**后发出") and unclosed_emphasis("是*本地（local）*地址")
    assert not unclosed_emphasis("* 第一项 *本地*\n* 第二项")
    assert not unclosed_emphasis("做**地址转换**（NAT）后，**同一个**命名空间，*本地*地址，`a*b` **`veth0`**。")


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_bold_and_italics_render_in_chinese(source: Path) -> None:
    for chinese in BUILD.translations(source, "zh").values():
        assert not unclosed_emphasis(chinese), f"{source.stem}: emphasis that will not render: {unclosed_emphasis(chinese)}"
