"""The library speaks the learner's language: every sentence marked, translated, and shown translated.

Sentences are marked with ``labkit.i18n.tr`` and translated in
``labkit/locale/zh/LC_MESSAGES/labkit.po`` (``python -m labkit.i18n_catalog`` updates it)."""

from __future__ import annotations

import ast
import html
import json
from pathlib import Path

import pytest

from labkit import i18n, i18n_catalog
from labkit.errors import _BY_NAME, CheckFailed, LabkitError, NotFound
from labkit.i18n import Text, localize, tr
from labkit.ipython import render
from labkit.settings import Settings

PACKAGE = Path(i18n.__file__).parent
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "i18n_catalog.py")
ERRORS = set(_BY_NAME)



def test_every_sentence_has_a_chinese_translation_with_the_same_fields() -> None:
    catalog = i18n_catalog.read("zh")
    template = i18n_catalog.sentences()
    catalog.update(template)
    assert len(template) > 1
    assert i18n_catalog.problems(catalog, template) == []


def test_the_compiled_catalogue_is_current() -> None:
    assert i18n_catalog.main(["--check"]) == 0, "run: python -m labkit.i18n_catalog"


def _calls(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
            yield name, node


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_sentences_are_literal_with_named_fields(path: Path) -> None:
    """tr("... {name} ...", name=...): a literal (extraction can read it), its fields exactly the keywords."""
    bad = []
    for name, call in _calls(path):
        if name != "tr":
            continue
        first = call.args[0] if call.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            bad.append(f"line {call.lineno}: tr() of something that is not a plain string literal")
            continue
        given = {kw.arg for kw in call.keywords}
        if None in given:  # tr(msg, **fields)
            continue
        if i18n_catalog.fields(first.value) != given:
            bad.append(f"line {call.lineno}: fields {sorted(i18n_catalog.fields(first.value))} but keywords {sorted(given)}")
    assert bad == []


def test_extraction_finds_every_sentence() -> None:
    """A tr() that gettext's extractor cannot see (inside an f-string, say) would never be translated."""
    marked = set()
    for path in SOURCES:
        for name, call in _calls(path):
            if name == "tr" and call.args and isinstance(call.args[0], ast.Constant):
                marked.add(call.args[0].value)
    assert sorted(marked - {m.id for m in i18n_catalog.sentences()}) == []


def _plain_text(node: ast.expr | None) -> bool:
    """An English sentence written in place (a literal, an f-string, or text glued together), not through tr()."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _plain_text(node.left) or _plain_text(node.right)
    if isinstance(node, ast.IfExp):
        return _plain_text(node.body) or _plain_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return any(_plain_text(v) for v in node.values)
    return False


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_errors_speak_through_tr(path: Path) -> None:
    """Every labkit error's what and hint is a tr() sentence (or a value that holds one), never plain English."""
    bad = []
    for name, call in _calls(path):
        if name not in ERRORS:
            continue
        parts = [("what", call.args[0] if call.args else None)] + [(kw.arg, kw.value) for kw in call.keywords if kw.arg == "hint"]
        bad += [f"line {call.lineno}: {name}({part}=...) is plain English" for part, node in parts if _plain_text(node)]
    assert bad == []


def test_a_chinese_error_box(zh) -> None:
    error = NotFound(tr("there is no device {name!r} in namespace {ns!r}", name="veth9", ns="h1"), where="h1",
                     hint=tr("create it first (its name must be exactly {name!r})", name="veth9"))
    box = render(error)
    assert "veth9" in box and "h1" in box
    assert "there is no device" not in box and "create it first" not in box
    assert any("\u4e00" <= ch <= "\u9fff" for ch in box)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error))


def test_english_is_the_fallback(monkeypatch) -> None:
    monkeypatch.setenv("LABKIT_LANG", "xx")
    error = NotFound(tr("there is no device {name!r} in namespace {ns!r}", name="veth9", ns="h1"))
    assert str(error) == "there is no device 'veth9' in namespace 'h1'"
    assert localize(tr("a sentence nobody translated")) == "a sentence nobody translated"
    assert tr("a sentence nobody translated").localized("zh") == "a sentence nobody translated"


def test_a_check_says_not_yet_in_chinese(zh) -> None:
    box = html.unescape(render(CheckFailed(tr("{ref} is down", ref="h1/veth0"),
                                           hint=tr("bring it up: lab.up({name!r}, ns={ns!r})", name="veth0", ns="h1"))))
    assert "还没有通过</b>：" in box and "Not yet" not in box and "h1/veth0" in box and "lab.up('veth0', ns='h1')" in box


def test_an_error_from_the_agent_is_translated_on_this_side(zh) -> None:
    """The agent (root, no LABKIT_LANG) sends English plus ids; the kernel's side shows Chinese."""
    i18n.use("en")
    sent = NotFound(tr("there is no device {name!r} in namespace {ns!r}", name="veth9", ns="h1")).to_dict()
    assert sent["what"] == "there is no device 'veth9' in namespace 'h1'"
    i18n.use("zh")
    received = LabkitError.from_dict(json.loads(json.dumps(sent)))
    assert type(received) is NotFound and "veth9" in str(received) and "there is no device" not in str(received)
    # an old agent's error (no ids) still arrives, in English
    old = LabkitError.from_dict({"type": "NotFound", "what": "gone", "where": "", "hint": ""})
    assert str(old) == "gone"


def test_nested_sentences_are_translated_too(zh) -> None:
    outer = tr("{what}. {hint}", what=tr("Not yet"), hint="x")
    assert Text.from_data(json.loads(json.dumps(outer.to_data()))).localized() == outer.localized()
    assert "Not yet" not in outer.localized()


@pytest.mark.parametrize(("env", "lang"), [
    ({}, "en"), ({"LABKIT_LANG": "zh"}, "zh"), ({"LABKIT_LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8", "LABKIT_LANG": "en"}, "en"), ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "fr:zh_CN"}, "zh"), ({"LABKIT_LANG": "klingon"}, "en"),
])
def test_the_language_comes_from_labkit_lang_or_the_locale(env, lang) -> None:
    assert Settings.from_env(env).lang == lang


def test_an_unknown_language_is_refused() -> None:
    from labkit.notebook import language

    with pytest.raises(LabkitError, match="klingon"):
        language("klingon")
    assert i18n.language() == "en"
    assert language("zh_CN") == "zh" and language(None) == "en"


def test_the_library_uses_the_glossary_terms() -> None:
    """The words of docs/glossary.zh.md, as the notebooks use them (its Avoid list names the variants)."""
    from tests.unit.test_notebook_i18n import avoided

    variants = avoided()
    assert variants
    bad = [f"{variant!r} in the translation of {m.id!r}: use {use}" for m in i18n_catalog.read("zh") if m.id and m.string
           for variant, use in variants.items() if variant in str(m.string)]
    assert bad == []


def test_a_field_leaves_no_space_between_two_chinese_words(zh: None) -> None:
    """"{label} 已被停止" keeps its space before Latin or code, and loses it before a Chinese label's last word."""
    assert i18n.localize(tr("{label} was stopped", label=tr("the wait for STP"))) == "等待生成树协议（STP）收敛已被停止"
    assert i18n.localize(tr("{label} was stopped", label="`ping -c 3`")) == "`ping -c 3` 已被停止"
    assert i18n.tidy("已 停止 br0 与 eth0", "zh") == "已停止 br0 与 eth0"
    assert i18n.tidy("a b", "en") == "a b" and i18n.tidy("已 停止", "en") == "已 停止"


def test_a_chinese_notebook_is_marked_zh_cn_for_the_browser() -> None:
    from labkit.languages import page_language

    assert "nb.lang = 'zh-CN'" in page_language("zh") and "nb.lang = 'en'" in page_language("en")
    assert page_language("zh").startswith("<script>") and "closest('.jp-Notebook')" in page_language("zh")
