"""A Chinese label in the topology picture is drawn with a CJK font, not as boxes ("tofu").

Graphviz measures and draws a label with the first font of ``fontname`` (``labkit.render.dot.FONTNAME``)
that has its glyphs, through fontconfig. The picture of a lab whose namespace and bridge have Chinese
labels is drawn here by the same DOT and the same engine as the notebooks (``neato -n2``), twice:
with this machine's fonts, and with a fontconfig that knows only DejaVu (no CJK glyph: what a machine
without ``fonts-noto-cjk`` draws). The PDF names the fonts its glyphs come from: the first must use
Noto Sans CJK SC for the Chinese, the second cannot. The PNGs must differ, while a Latin-only label
draws the same pixels either way (so the difference is the Chinese glyphs, nothing else). The PNGs
are kept in ``artifacts/render/`` to look at.
"""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import graphviz
import pytest

from labkit.render.arrange import size_of
from labkit.render.dot import ENGINE, FONTNAME, to_dot
from labkit.render.graph import Cluster, Graph, Node

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "render"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
needs_neato = pytest.mark.skipif(shutil.which("neato") is None, reason="Graphviz (neato) is not installed: apt-get install graphviz")


def picture(namespace: str, bridge: str) -> str:
    """The DOT of a namespace holding a bridge and a veth, with these labels."""
    graph = Graph(title="cjk", clusters=(Cluster("ns:main", namespace),),
                  nodes=(Node("main/br0", bridge, "ns:main", {"shape": "box"}), Node("main/veth0", "veth0", "ns:main")),
                  edges=())
    return to_dot(graph)


def draw(dot: str, fmt: str, fontconfig: Path | None, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as env:
        if fontconfig is not None:
            env.setenv("FONTCONFIG_FILE", str(fontconfig))
        return graphviz.pipe(ENGINE, fmt, dot.encode(), quiet=True, neato_no_op=2)


def pixels(png: bytes) -> bytes:
    """The PNG's image data, decompressed (its chunks around it may carry anything)."""
    data, at = b"", 8
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        if kind == b"IDAT":
            data += png[at + 8:at + 8 + length]
        at += 12 + length
    return zlib.decompress(data)


def pdf_fonts(pdf: bytes) -> set[str]:
    """The fonts a PDF's glyphs come from (cairo embeds subsets named ``ABCDEF+Family-Style``)."""
    return {name.split("+", 1)[-1] for name in re.findall(rb"/FontName\s*/([\w+.-]+)", pdf) for name in [name.decode()]}


@pytest.fixture
def latin_only(tmp_path: Path) -> Path:
    """A fontconfig with DejaVu only: no font with a Chinese glyph, as on a machine without fonts-noto-cjk."""
    if not DEJAVU.is_dir():
        pytest.skip(f"{DEJAVU} is missing (Debian's fonts-dejavu-core, scripts/install.sh --test): no Latin-only fontconfig to compare with")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>{DEJAVU}</dir>'
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n")
    return conf


@needs_neato
def test_a_chinese_label_is_drawn_with_a_cjk_font_not_boxes(latin_only: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chinese = picture("网络命名空间 main", "网桥 br0")
    with_cjk = pdf_fonts(draw(chinese, "pdf", None, monkeypatch))
    assert any(name.startswith("NotoSansCJKsc") for name in with_cjk), (
        f"the Chinese labels are drawn with {sorted(with_cjk)}, not Noto Sans CJK SC: install fonts-noto-cjk "
        "(scripts/packages.sh BASE), or fontname lacks it")
    without = pdf_fonts(draw(chinese, "pdf", latin_only, monkeypatch))
    assert not any("CJK" in name for name in without), f"the Latin-only fontconfig still found {sorted(without)}"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    drawn, tofu = draw(chinese, "png", None, monkeypatch), draw(chinese, "png", latin_only, monkeypatch)
    (ARTIFACTS / "cjk-label.png").write_bytes(drawn)
    (ARTIFACTS / "cjk-label-without-cjk-font.png").write_bytes(tofu)
    assert pixels(drawn) != pixels(tofu), "the Chinese labels look the same with and without a CJK font: boxes both times"
    latin = picture("namespace main", "bridge br0")
    assert pixels(draw(latin, "png", None, monkeypatch)) == pixels(draw(latin, "png", latin_only, monkeypatch)), \
        "a Latin-only label should not depend on the CJK font (else the comparison above proves nothing)"


def test_the_fonts_name_a_cjk_face_and_end_in_a_generic_family() -> None:
    families = FONTNAME.split(",")
    assert "Noto Sans CJK SC" in families and families[-1] == "sans-Serif"
    assert 'fontname="Helvetica,DejaVu Sans,Noto Sans CJK SC,sans-Serif"' in picture("网络命名空间 main", "网桥 br0")


def test_a_chinese_label_gets_a_box_wide_enough() -> None:
    """A Chinese character is an em wide (10 pt at 10 pt), nearly two Latin letters (5.6 pt): the layout's
    estimate counts it so (:func:`labkit.render.arrange.text_width`)."""
    latin, chinese = (size_of(Node("n", label, "ns:main", {"shape": "box"}))[0] for label in ("bridge br", "网桥 br0"))
    assert chinese >= 2 * 9.5 + 4 * 5.6 + 20 and chinese < latin + 10
