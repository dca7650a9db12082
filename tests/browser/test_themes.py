"""Readable in JupyterLab's light and dark themes: every text of a view, a box and a check against its background.

The notebook shows a view (topology, legend, commands), a passing check, a verified fact, a
failing check, an error box and a command's result. In each theme (switched with the command ``apputils:change-theme``, as
a learner does in Settings → Theme), every piece of text in them is measured: its colour and the
colour actually behind it (``getComputedStyle``; for the picture's labels, the filled shape under
the text's centre), as the WCAG contrast ratio. Each must be at least 4.5 (WCAG AA for body text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .scratch import open_notebook, run_cell, scratch_notebook, wait_done
from .test_notebooks_browser import screenshot

pytestmark = pytest.mark.browser

SOURCE = ["from labkit.notebook import fresh_lab, fact\nlab = fresh_lab(uplink=False)\nlab.netns('h1')\n"
          "lab.veth('ta', 'tb', peer_ns='h1')\nlab.addr('ta', '10.4.0.1/24')\nlab.addr('tb', '10.4.0.2/24', ns='h1')\n"
          "lab.up('ta')\nlab.up('tb', ns='h1')\nlab.view(title='both themes')",
          "lab.check.reachable('main', '10.4.0.2')",
          "fact(True, 'the kernel answers')",
          "lab.check.unreachable('main', '10.4.0.2')",
          "lab.veth('a-name-far-too-long', 'x')",
          "lab.run('true')",
          "lab.close()"]
MINIMUM = 4.5
THEMES = {"JupyterLab Light": "true", "JupyterLab Dark": "false"}

#: every text in the learner-facing parts, with its contrast against what is behind it
CONTRASTS = r"""() => {
  const parse = (c) => { const m = (c || '').match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => top[3] >= 1 ? top : [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const backdrop = (el) => {  // the colour behind an HTML element: its own and its ancestors' backgrounds, stacked
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let c = [255, 255, 255, 1];
    for (const layer of layers.reverse()) c = over(layer, c);
    return c;
  };
  const paint = (el) => {  // an SVG shape's fill as a colour, or null for none
    const f = getComputedStyle(el).fill; if (!f || f === 'none') return null;
    const c = parse(f); if (!c) return null;
    const o = parseFloat(getComputedStyle(el).fillOpacity || '1'); c[3] *= isNaN(o) ? 1 : o; return c[3] > 0 ? c : null;
  };
  const out = [];
  const add = (what, el, fg, bg) => { if (fg && bg) out.push({what, text: (el.textContent || '').trim().slice(0, 40),
      ratio: Math.round(ratio(over(fg, bg), bg) * 100) / 100, fg: fg.join(','), bg: bg.join(',')}); };
  const cells = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell');
  const groups = {error: [4, '.labkit-error'], 'failing check': [3, '.labkit-error'], 'passing check': [1, '.labkit-check-ok'],
                  fact: [2, '.labkit-fact'], legend: [0, '.labkit-legend'], commands: [0, '.lk-cmds'],
                  run: [5, '.labkit-run']};
  for (const [what, [cell, sel]] of Object.entries(groups)) {
    const roots = cells[cell] ? cells[cell].querySelectorAll(sel) : [];
    if (!roots.length) out.push({what, text: '(missing)', ratio: 0});
    for (const root of roots) for (const el of [root, ...root.querySelectorAll('*')]) {
      if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
      add(what, el, parse(getComputedStyle(el).color), backdrop(el));
    }
  }
  const texts = document.querySelectorAll('.labkit-topology .lk-topo-svg svg text');
  if (!texts.length) out.push({what: 'topology', text: '(missing)', ratio: 0});
  for (const t of texts) {
    const r = t.getBoundingClientRect(); let bg = null;
    for (const e of document.elementsFromPoint(r.x + r.width / 2, r.y + r.height / 2)) {
      if (e === t || e.tagName === 'text') continue;
      if (e instanceof SVGElement) { if (e.tagName !== 'svg' && (bg = paint(e))) break; continue; }
      bg = backdrop(e); break;
    }
    add('topology', t, paint(t), bg && (bg[3] >= 1 ? bg : over(bg, backdrop(t.closest('.lk-topo-svg')))));
  }
  return out;
}"""


def set_theme(page: Any, theme: str) -> None:
    page.evaluate(f"window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}})")
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{THEMES[theme]}'", timeout=30_000)
    page.wait_for_timeout(1500)  # the theme's stylesheet applies


def test_views_boxes_and_checks_are_readable_in_light_and_dark(jupyterlab: dict[str, Any], browser: Any,
                                                               artifacts: Path) -> None:
    page = open_notebook(jupyterlab, browser, "themes.ipynb", scratch_notebook(SOURCE))
    try:
        for index in range(len(SOURCE)):
            run_cell(page, index)
            wait_done(page, index, timeout=90)
        page.locator(".labkit-topology .lk-topo-svg svg").first.wait_for(state="visible", timeout=30_000)
        low: dict[str, list[dict[str, Any]]] = {}
        for theme in THEMES:
            set_theme(page, theme)
            screenshot(page, artifacts / f"themes-{theme.split()[-1].lower()}.png")
            found = page.evaluate(CONTRASTS)
            for what in ("error", "failing check", "passing check", "fact", "legend", "commands", "run", "topology"):
                assert any(row["what"] == what and row["ratio"] > 0 for row in found), f"{theme}: no {what} on the page"
            low[theme] = [row for row in found if row["ratio"] < MINIMUM]
        assert not any(low.values()), "text below contrast 4.5:\n" + "\n".join(
            f"  {theme}: {row['what']} {row['text']!r} {row['ratio']} (text {row['fg']} on {row['bg']})"
            for theme, rows in low.items() for row in rows)
    finally:
        set_theme(page, "JupyterLab Light")
        page.close()
