"""A Chinese notebook in JupyterLab: it runs, and its Chinese is drawn with a CJK font, not boxes ("tofu").

A copy of ``notebooks/zh/solutions/04-bridge.ipynb`` is served by a JupyterLab of its own whose
kernels get ``LABKIT_LANG=zh``; headless Chromium opens it, runs every cell (no cell may show an
error) and takes a screenshot (``artifacts/screenshots/zh-04-bridge.png``). Then the heading's Chinese
is judged three ways, each of which a machine without a CJK font fails:

* the font is there for the page: a ``FontFace`` made from ``local("Noto Sans CJK SC")`` loads, and
  then ``document.fonts.check`` says it can draw the heading's characters (``check`` alone is true
  for any font the page does not know, so it proves nothing on its own);
* the glyphs came from it: Chromium's DevTools protocol (``CSS.getPlatformFontsForNode``) names the
  fonts that drew the heading, and a CJK face drew at least as many glyphs as it has Chinese characters;
* they are not boxes: the heading's first Chinese character, drawn on a canvas in the heading's own
  font, differs in its pixels from a private-use character, which no font has (a box; Chromium draws
  the same box for every missing character).

Any CJK face passes: JupyterLab's page says ``lang="en"``, and for it Chromium here drew the heading's
Chinese with Noto Sans CJK JP (the Japanese glyph forms of the same family; a browser whose locale or
page says zh picks the SC face). Without a CJK font (Chromium run with a DejaVu-only ``FONTCONFIG_FILE``)
all three measures fail: the face does not load, DejaVu Math TeX Gyre draws every glyph, 0 pixels differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, serve
from .test_notebooks_browser import KERNEL_READY, run_all

pytestmark = pytest.mark.browser

NOTEBOOK = ROOT / "notebooks" / "zh" / "solutions" / "04-bridge.ipynb"
FONT = "Noto Sans CJK SC"
HAN = re.compile(r"[\u4e00-\u9fff]")

FONT_LOADS = """async (family) => {
  const face = new FontFace('labkit-cjk-probe', `local("${family}")`);
  try { await face.load(); } catch (e) { return {loaded: false, error: String(e)}; }
  document.fonts.add(face);
  const heading = document.querySelector('.jp-RenderedMarkdown h1').textContent;
  return {loaded: true, check: document.fonts.check('16px labkit-cjk-probe', heading)};
}"""
#: the heading's first Chinese character and a private-use one (no glyph anywhere), drawn in the heading's font
PIXELS = """() => {
  const h1 = document.querySelector('.jp-RenderedMarkdown h1');
  const style = getComputedStyle(h1);
  const han = [...h1.textContent].find(c => /[\\u4e00-\\u9fff]/.test(c));
  const draw = (text) => {
    const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
    const ctx = canvas.getContext('2d');
    ctx.font = `32px ${style.fontFamily}`; ctx.textBaseline = 'top'; ctx.fillText(text, 8, 8);
    return {pixels: Array.from(ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3)),
            width: ctx.measureText(text).width};
  };
  const glyph = draw(han), box = draw('\\ue000');
  const differ = glyph.pixels.filter((v, i) => v !== box.pixels[i]).length;
  return {han, family: style.fontFamily, differ, glyphWidth: glyph.width, boxWidth: box.width};
}"""


@pytest.fixture(scope="module")
def chinese_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A JupyterLab on a copy of the Chinese 04-bridge, its kernels told LABKIT_LANG=zh."""
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK.relative_to(ROOT)} is missing: python notebooks/build.py")
    with serve(tmp_path_factory.mktemp("jlab-zh"), [NOTEBOOK], LABKIT_LANG="zh") as lab:
        yield lab


def platform_fonts(page: Any, selector: str) -> list[dict[str, Any]]:
    """The fonts Chromium drew ``selector``'s text with: [{'familyName', 'glyphCount', ...}]."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        document = cdp.send("DOM.getDocument", {"depth": -1})
        node = cdp.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
        return list(cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"])
    finally:
        cdp.detach()


@pytest.mark.timeout(600)
def test_the_chinese_bridge_lab_runs_and_its_heading_is_drawn_with_a_cjk_font(chinese_lab: dict[str, Any], browser: Any,
                                                                            artifacts: Path) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{chinese_lab['url']}/lab/tree/{NOTEBOOK.name}?reset&token={chinese_lab['token']}")
        page.wait_for_function(KERNEL_READY, timeout=90_000)
        page.evaluate("window.jupyterapp.shell.collapseLeft()")
        state = run_all(page)
        assert not state["errors"], "zh/04-bridge: a cell shows an error:\n" + "\n---\n".join(e[-1500:] for e in state["errors"])
        heading = page.locator(".jp-RenderedMarkdown h1").first
        heading.scroll_into_view_if_needed()
        page.evaluate("document.querySelector('.jp-WindowedPanel-outer, .jp-Notebook').scrollTop = 0")
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "zh-04-bridge.png"))
        page.screenshot(path=str(artifacts / "zh-04-bridge-full.png"), full_page=True)

        text = heading.text_content() or ""
        chinese = HAN.findall(text)
        assert len(chinese) >= 5, f"the heading is not Chinese: {text!r}"

        font = page.evaluate(FONT_LOADS, FONT)
        assert font["loaded"], f"Chromium has no {FONT!r} (install fonts-noto-cjk, scripts/packages.sh BASE): {font}"
        assert font["check"], f"document.fonts.check: {FONT!r} cannot draw the heading {text!r}"

        used = platform_fonts(page, ".jp-RenderedMarkdown h1")
        cjk = [f for f in used if re.search(r"CJK|Han|Hei|Song|WenQuanYi|Sans SC|Serif SC", f["familyName"])]
        assert cjk and sum(f["glyphCount"] for f in cjk) >= len(chinese), \
            f"the heading's {len(chinese)} Chinese characters were not drawn by a CJK font: {used}"

        # the notebook says it is Chinese (labkit.notebook.language), so Han characters take their Simplified forms:
        # 令 drawn under the notebook's lang differs from 令 drawn as Japanese, the Pan-CJK font's default here
        assert heading.evaluate("e => e.closest('[lang]').lang") == "zh-CN", "the notebook is not marked zh-CN"
        page.evaluate("""() => { const nb = document.querySelector('.jp-Notebook');
            for (const [id, lang] of [['lk-forms-page', ''], ['lk-forms-ja', 'ja']]) {
              const s = document.createElement('span'); s.id = id; s.textContent = '令骨直'; s.style.fontSize = '40px';
              if (lang) { s.lang = lang; } nb.prepend(s); } }""")
        ours, japanese = (page.locator(f"#{name}").screenshot() for name in ("lk-forms-page", "lk-forms-ja"))
        assert ours != japanese, "令骨直 look the same in this notebook as in Japanese: the Simplified forms are not used"
        page.evaluate("() => document.querySelectorAll('#lk-forms-page, #lk-forms-ja').forEach(e => e.remove())")

        pixels = page.evaluate(PIXELS)
        assert pixels["differ"] > 50, f"the heading's {pixels['han']!r} looks like a missing glyph's box: {pixels}"
        print(f"zh-04-bridge: heading drawn with {[(f['familyName'], f['glyphCount']) for f in used]}; "
              f"canvas {pixels['han']} vs box: {pixels['differ']} pixels differ, widths {pixels['glyphWidth']} / {pixels['boxWidth']}")
    finally:
        page.close()
