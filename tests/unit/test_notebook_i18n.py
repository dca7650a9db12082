"""One source, two languages: a notebook's prose in Chinese comes from a gettext catalogue
(``notebooks/locale/zh/NN-name.po``: msgid an English markdown cell, msgstr its translation),
its code from the one English source. Pure: these read and write files only."""

from __future__ import annotations

import ast
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


def fill(source: Path, table: dict[str, str], context: str | None = "any") -> None:
    """Translate the messages whose English starts with a key of ``table`` (and of ``context``), as a translator would."""
    path = BUILD.catalogue_path(source, "zh")
    cat = BUILD.read_catalogue(path)
    for message in cat:
        for start, zh in table.items():
            if message.id and message.id.startswith(start) and context in ("any", message.context):
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
    assert len(told) == 1 and "locale/zh/90-tiny.po: cells 90-02 (" in told[0], told
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
    assert "locale/zh/90-tiny.po: cells 90-00, 90-02 (" in capsys.readouterr().out


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_every_markdown_cell_has_its_translation(source: Path) -> None:
    missing = BUILD.untranslated(source, "zh")
    assert not missing, (f"{BUILD.catalogue_path(source, 'zh').name}: cells {missing} have no Chinese translation "
                         "(python notebooks/build.py --extract zh, then fill their msgstr)")


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_the_built_chinese_notebooks_are_in_sync(source: Path) -> None:
    for edition in (BUILD.edition("learner", "zh"), BUILD.edition("instructor", "zh")):
        assert BUILD.in_sync(source, edition), f"{BUILD.target_of(source, edition)} is out of date (python notebooks/build.py)"


def english_again(zh: str, en: str) -> str:
    """A Chinese code cell with its shown literals put back as the English source writes them."""
    ours, theirs = BUILD.shown(zh, KNOWN), BUILD.shown(en, KNOWN)
    assert len(ours) == len(theirs), "the Chinese cell does not show as many strings as the English one"
    for mine, english in zip(reversed(ours), reversed(theirs), strict=True):
        zh = zh[:mine.start] + en[english.start:english.end] + zh[mine.end:]
    return zh


KNOWN: dict[str, tuple[str, ...]] = {}
#: a Chinese character or a full-width punctuation mark
CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_code_cells_are_identical_across_languages_but_for_their_shown_strings(source: Path) -> None:
    """Every zh code cell compiles, and with its learner-visible literals put back in English (and the
    language lines of the first code cell taken out) is byte for byte the English cell."""
    KNOWN.clear()
    KNOWN.update(BUILD.signatures(BUILD.read_source(source).cells))
    for name in ("instructor", "learner"):
        en, zh = (BUILD.build(source, BUILD.edition(name, lang)) for lang in ("en", "zh"))
        assert [(c.cell_type, c.id, BUILD.tags_of(c)) for c in en.cells] == [(c.cell_type, c.id, BUILD.tags_of(c)) for c in zh.cells]
        first = next(c.id for c in zh.cells if c.cell_type == "code")
        for a, b in zip(en.cells, zh.cells, strict=True):
            if a.cell_type != "code":
                assert a.source != b.source, f"{name}: markdown cell {a.id} was not translated"
                continue
            assert a.metadata.get("nbgrader") == b.metadata.get("nbgrader")
            code = b.source
            if b.id == first:
                assert code.startswith(BUILD.LANGUAGE_LINES["zh"]), f"{name}: the first code cell does not choose zh"
                code = code[len(BUILD.LANGUAGE_LINES["zh"]):]
            assert "language(" not in a.source, f"{name}: the English cell {a.id} chooses a language"
            ast.parse(b.source)  # a SyntaxError here names the cell in the traceback
            if name == "learner" and a.metadata.get("nbgrader", {}).get("solution"):
                # the to-do cell: only its comment lines are in the learner's language
                assert a.source.splitlines()[-1] == b.source.splitlines()[-1] == PLACEHOLDER
                assert code.startswith("# 练习")
            else:
                assert english_again(code, a.source) == a.source, f"{name}: code cell {a.id} differs beyond its shown strings"


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_the_chinese_code_cells_show_chinese(source: Path) -> None:
    """No shown string of a zh code cell is left English, unless its translation is the English (a hint that is
    one line of Python, a sysctl listing): at most a few per lab, named here."""
    table = BUILD.translations(source, "zh", BUILD.CODE)
    kept = [english for english, chinese in table.items() if chinese == english]
    for english in kept:  # no two English words in a row outside the fields: code or a listing, not a sentence
        text = "".join(piece for is_field, piece in BUILD._pieces(english) if not is_field)
        assert not re.search(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b", text), f"{source.stem}: {english!r} left in English"
    known = BUILD.signatures(BUILD.read_source(source).cells)
    en, zh = (BUILD.build(source, BUILD.edition("instructor", lang)) for lang in ("en", "zh"))
    pairs = [(e.text, z.text) for a, b in zip(en.cells, zh.cells, strict=True) if a.cell_type == "code"
             for e, z in zip(BUILD.shown(a.source, known),
                             BUILD.shown(b.source.removeprefix(BUILD.LANGUAGE_LINES["zh"]), known), strict=True)]
    assert pairs or not BUILD.code_messages(source)
    for english, shown in pairs:
        assert english in kept or re.search(CJK, shown), f"{source.stem}: {shown!r} is not Chinese"


@pytest.mark.parametrize("source", TRANSLATED, ids=IDS)
def test_f_string_translations_keep_their_fields(source: Path) -> None:
    for _, shown in BUILD.code_messages(source):
        if shown.fstring:
            english = shown.text
            chinese = BUILD.translations(source, "zh", BUILD.CODE)[english]
            fields = [sorted(p for is_field, p in BUILD._pieces(text) if is_field) for text in (english, chinese)]
            assert fields[0] == fields[1], f"{source.stem}: {chinese!r} does not keep the fields of {english!r}"


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
    for english, chinese in [*BUILD.translations(source, "zh").items(), *BUILD.translations(source, "zh", BUILD.CODE).items()]:
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


# --- the learner-visible strings of code cells ----------------------------------------------------------------

SHOWN = '''
def ping_captured(dst, bpf, title, ns="h1"):
    """Ping dst, and draw what the capture saw."""
    return lab.view(title=title)

carrier = "no carrier" if down else f"carrier on {dev}"
hint = "bring {dev} up first"  # a plain string with braces, shown through hint=hint below
rows = {"ping": 1, "eth0 is up": 2}
ok = lab.run("ip", "link", "show", "dev eth0").stdout == "state UP"
lab.capture("veth1", filter="icmp or arp")
fact(ok, f"br0 is up; {carrier}", saw="what was seen")
lab.check.that(ok, "the message", hint=hint)
print(f"{name:<6} mtu {mtu!r}  ({what})", "-" * 3, "answers" if ok else "no answer", sep=" | ")
print(f"{len(x)}")
ping_captured("10.0.0.1", "udp port 6081", "Geneve inside UDP")
if "eth0 is up" in rows:
    raise ValueError(f"nothing arrived on {rows['ping']} within {t} s")
first = seen.get("mac") or "not seen yet"
print(f"first MAC: {first}")
print("  before " + " ".join(f"{n:>5}" for n in rows) + "   learned on", "x" + "y")
#: the rows of the table
unused = "# not a comment"  # noqa: F841
'''
#: what SHOWN shows the learner, in source order: (text, is an f-string)
SHOWN_STRINGS = [("Ping dst, and draw what the capture saw.", False), ("no carrier", False), ("carrier on {dev}", True), ("bring {dev} up first", False),
                 ("a plain string with braces, shown through hint=hint below", False),
                 ("br0 is up; {carrier}", True), ("what was seen", False), ("the message", False), ("{name:<6} mtu {mtu!r}  ({what})", True),
                 ("answers", False), ("no answer", False), ("Geneve inside UDP", False),
                 ("nothing arrived on {rows['ping']} within {t} s", True), ("not seen yet", False),
                 ("first MAC: {first}", True), ("  before ", False), ("   learned on", False),
                 ("the rows of the table", False)]
SHOWN_ZH = {"no carrier": "没有载波", "carrier on": "{dev} 上有载波", "bring {dev}": "先启用 {dev}",
            "br0 is up": "br0 已启用；{carrier}", "the message": "这条消息", "{name:<6}": "{name:<6} mtu {mtu!r}  （{what}）",
            "answers": "有应答", "no answer": "没有应答", "Geneve": "UDP 里的 \"Geneve\"",
            "nothing arrived": "{t} 秒内 {rows['ping']} 上什么也没收到", "what was seen": "看到的", "not seen yet": "还没看到",
            "first MAC": "第一个 MAC：{first}", "  before": "    之前 ", "   learned": "   学到的端口",
            "a plain string with braces": "一个带花括号的普通字符串，通过下面的 hint=hint 显示", "the rows of": "表格的行",
            "Ping dst, and": "ping dst，并画出抓包看到的内容。"}


def test_the_shown_strings_are_the_display_arguments_and_nothing_else() -> None:
    known = BUILD.signatures([BUILD.nbformat.v4.new_code_cell(SHOWN)])
    assert known["ping_captured"] == ("dst", "bpf", "title", "ns")
    assert [(s.text, s.fstring) for s in BUILD.shown(SHOWN, known)] == SHOWN_STRINGS
    for s in BUILD.shown(SHOWN, known):  # the spans are the literals themselves, or a comment's words
        if s.comment:
            assert SHOWN[s.start:s.end] == s.text and SHOWN[:s.start].rstrip(" :").endswith("#")
            continue
        assert ast.parse(SHOWN[s.start:s.end], mode="eval").body is not None
        assert SHOWN[s.start:s.end] in (f'"{s.text}"', f'f"{s.text}"', f'"""{s.text}"""')


def test_a_code_string_has_its_own_entry_and_the_chinese_cell_gets_its_literal(
        tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tiny.write_text(SOURCE + "\n# %%\n" + SHOWN + "\n# %% [markdown]\n# the message\n", encoding="utf-8")
    BUILD.extract(tiny, "zh")
    cat = BUILD.read_catalogue(BUILD.catalogue_path(tiny, "zh"))
    code = cat.get("the message", context=BUILD.CODE)
    assert code is not None and cat.get("the message") is not None, "a code string shares the markdown cell's entry"
    assert code.auto_comments == ["code cell 90-04 of notebooks/src/90-tiny.py"]
    assert "keep every {field}" in cat.get("br0 is up; {carrier}", context=BUILD.CODE).auto_comments[1]
    fill(tiny, {"# A lab": "# 一个实验\n\n从 `veth0` ping `veth1`。",
                "## Step 1": "## 第 1 步 · 网线\n\n创建这一对；内核打印 `NO-CARRIER`。", "the message": "这条消息"}, context=None)
    assert BUILD.untranslated(tiny, "zh") == ["90-04"], "the code cell's strings are not translated yet"
    assert BUILD.main(["--check"]) == 1
    assert "locale/zh/90-tiny.po: cells 90-04 (" in capsys.readouterr().out
    fill(tiny, SHOWN_ZH, context=BUILD.CODE)
    assert BUILD.untranslated(tiny, "zh") == []
    assert BUILD.main([]) == 0 and BUILD.main(["--check"]) == 0
    cell = next(c for c in BUILD.build(tiny, BUILD.edition("learner", "zh")).cells if c.id == "90-04")
    assert 'fact(ok, f"br0 已启用；{carrier}", saw="看到的")' in cell.source
    assert 'print(f"{name:<6} mtu {mtu!r}  （{what}）", "-" * 3, "有应答" if ok else "没有应答", sep=" | ")' in cell.source
    assert 'ping_captured("10.0.0.1", "udp port 6081", \'UDP 里的 "Geneve"\')' in cell.source
    assert 'raise ValueError(f"{t} 秒内 {rows[\'ping\']} 上什么也没收到")' in cell.source
    assert 'first = seen.get("mac") or "还没看到"' in cell.source, "the fallback of `or` is shown"
    assert '    """ping dst，并画出抓包看到的内容。"""\n' in cell.source, "a docstring keeps its triple quotes"
    assert 'print("    之前 " + " ".join(f"{n:>5}" for n in rows) + "   学到的端口", "x" + "y")' in cell.source, "the + pieces"
    assert 'rows = {"ping": 1, "eth0 is up": 2}' in cell.source and '"dev eth0").stdout == "state UP"' in cell.source
    ast.parse(cell.source)
    # a translation made fuzzy (its English changed) counts as missing again
    path = BUILD.catalogue_path(tiny, "zh")
    cat = BUILD.read_catalogue(path)
    cat.get("the message", context=BUILD.CODE).flags.add("fuzzy")
    path.write_text(BUILD.po_text(cat), encoding="utf-8")
    assert BUILD.untranslated(tiny, "zh") == ["90-04"]


@pytest.mark.parametrize("chinese", ["{b} 和 {a}", "{a}{b}", "（{a!r:>3}）{b}"])
def test_an_f_string_translation_may_reorder_its_fields(chinese: str) -> None:
    english = BUILD.Shown(0, 0, "{a!r:>3} then {b}" if "!r" in chinese else "{a} then {b}", True)
    literal = BUILD.code_literal(english, chinese, "cell 90-01")
    assert isinstance(ast.parse(literal, mode="eval").body, ast.JoinedStr)


@pytest.mark.parametrize("chinese", ["只有 {a}", "{a} 和 {c}", "{a} 和 {b!r}", "{a} 和 {b} }", "{a} 和 {b:>3}"])
def test_an_f_string_translation_that_loses_or_changes_a_field_stops_the_build(chinese: str) -> None:
    with pytest.raises(BUILD.BadTranslation, match=re.escape("cell 90-01: the translation of '{a} then {b}'")):
        BUILD.code_literal(BUILD.Shown(0, 0, "{a} then {b}", True), chinese, "cell 90-01")


def test_a_comment_translation_stays_one_line_and_keeps_the_code() -> None:
    with pytest.raises(BUILD.BadTranslation, match="must be one line"):
        BUILD.code_literal(BUILD.Shown(0, 0, "the loop is closed", False, comment=True), "环路\n闭合了", "cell 90-01")
    code = 'lab.up("to-sw3")  # the loop is closed\nx = "# no comment"  # noqa: F841\n    # read it again, \'twice\'\n'
    found = BUILD.shown(code, {})
    assert [s.text for s in found] == ["the loop is closed", "read it again, 'twice'"]
    table = {"the loop is closed": "环路闭合了", "read it again, 'twice'": "再读一次，'两次'"}
    out = BUILD.substituted(code, table, {}, "cell 90-01")
    assert out == 'lab.up("to-sw3")  # 环路闭合了\nx = "# no comment"  # noqa: F841\n    # 再读一次，\'两次\'\n'


@pytest.mark.parametrize("text", ['说 "你好"', "it's", "a\\b", "两行\n第二行", "both ' and \"", "制表\t符", "{not a field}"])
def test_a_translated_literal_is_the_same_string(text: str) -> None:
    assert ast.literal_eval(BUILD.python_literal(text)) == text
    fields = {"a": {"k": 1}}
    fstring = BUILD.python_literal(text.replace("{not a field}", "{{kept}}") + " {a['k']}", fstring=True)
    assert eval(fstring, {}, fields) == text.replace("{not a field}", "{kept}") + " 1"  # our own literal
