"""The cell view: one output per step with the topology, the commands, and the captures.

``lab.view(cap)`` (or ``step_view(lab, capture=cap)``) draws, in one widget:

1. the topology as the kernel has it now, what changed since the last view
   highlighted (``lab.changes()``) and, after a capture, the devices that saw
   packets coloured and labelled with their counts (``cap.path_counts()``);
   clicking an interface shows its details;
2. the iproute2 commands the steps since the last view ran (``lab.history``);
3. the capture panes, one per device, side by side.

A capture that is still running is waited for first (until its ``count`` or
``duration``, or stopped at once if it has neither), so that a notebook executed
headless saves the panes with their final packets.
"""

from __future__ import annotations

import base64
import html
import time
from typing import Any

import ipywidgets as widgets

from ..i18n import Text, localize, tr
from .topology import topology_widget

COUNT_GRACE = 10.0
#: what the picture's colours and lines mean, under every picture. Each colour is shown as a sample of the
#: line or border itself, next to words in the theme's text colour: coloured words (the picture's red, blue,
#: orange) are too faint on a dark or a white page (tests/browser/test_themes.py).
def _sample(css: str) -> str:
    return f'<span style="display:inline-block;width:18px;height:0;vertical-align:middle;margin:0 3px;{css}"></span>'


def _t(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for HTML text."""
    return html.escape(localize(text), quote=False)


def _attr(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for an HTML attribute's value."""
    return html.escape(localize(text))


def legend() -> str:
    """The legend in the learner's language (built when shown: the language can change in the notebook).
    The STP states keep the kernel's words (``forwarding``, ``blocking``...): the picture's lines say them too."""
    words = {"new": tr("new"), "yellow": tr("yellow"), "changed": tr("changed (what, in brackets)"),
             "counted": tr("with a count: saw packets in the capture"), "ports": tr("bridge ports:"),
             "stack": tr("the device hands packets to its namespace's IP stack"), "down": tr("greyed text: down")}
    w = {key: _t(text) for key, text in words.items()}
    return ('<div class="labkit-legend" style="font:11px var(--jp-ui-font-family,sans-serif);'
            'color:var(--jp-content-font-color1,#333);margin:2px 0 4px">'
            f'{_sample("height:8px;border:2px solid #1f77b4")}{w["new"]} · '
            f'<span style="background:#fff3b0;color:#333;padding:0 3px">{w["yellow"]}</span> {w["changed"]} · '
            f'{_sample("height:8px;border:2px solid #d62728")}{w["counted"]} · {w["ports"]} '
            f'{_sample("border-top:3px solid #2ca02c")}forwarding '
            f'{_sample("border-top:3px dashed #ff7f0e")}listening/learning '
            f'{_sample("border-top:3px dashed #d62728")}blocking · '
            f'{_sample("border-top:2px dotted #999")}{w["stack"]} · {w["down"]}</div>')


#: the legend in English (the default language); :func:`legend` gives it in the learner's
LEGEND = legend()


def commands_html(changes: list[Any], capture: Any = None) -> str:
    """The commands of ``changes`` as a shell transcript; steps that changed nothing are marked."""
    lines = []
    for change in changes:
        mark = "" if change.did_change else "  # " + localize(tr("already so: nothing changed"))
        lines.append(f'<span class="lk-c"># {html.escape(localize(change.title))}{html.escape(mark)}</span>')
        lines += [f"$ {html.escape(cmd, quote=False)}" for cmd in change.commands]
    if capture is not None and hasattr(capture, "commands"):
        captured = _t(tr("captured with (one tcpdump per device, all listening before the traffic)"))
        lines.append(f'<span class="lk-c"># {captured}</span>')
        lines += [f"$ {html.escape(cmd, quote=False)}" for cmd in capture.commands()]
    if not lines:
        nothing = _t(tr("no new commands since the last view"))
        lines.append(f'<span class="lk-c"># {nothing}</span>')
    return ('<style>.lk-cmds{font:12px/1.5 var(--jp-code-font-family,monospace);background:var(--jp-layout-color2,#f6f6f6);'
            "padding:6px 10px;border-radius:4px;margin:4px 0;white-space:pre-wrap;color:var(--jp-content-font-color1,#1a1a1a)}"
            ".lk-cmds .lk-c{font-style:italic}"
            "</style>"
            f'<div class="lk-cmds">{chr(10).join(lines)}</div>')


def finish(capture: Any) -> None:
    """Block until ``capture`` has ended (see the module docstring)."""
    if not getattr(capture, "running", False):
        return
    if capture.duration is not None:
        left = capture.started_at + capture.duration - time.time() if capture.started_at else capture.duration
        capture.wait(timeout=max(0.0, left) + 1.0)
    elif capture.count is not None:
        capture.wait(timeout=COUNT_GRACE)
    else:
        capture.stop()


STATIC_ROWS = 60  # packets per device in the saved fallback (the live pane and the .pcap keep them all)


class StepView(widgets.VBox):
    """The cell view as a widget, displayed together with a static copy of itself.

    A widget lives only while its kernel and the page hold its model: a notebook saved
    and reopened later, exported to HTML, or shown on GitHub has the view's output but no
    model ("Error displaying widget"). So a second output carries the same picture, commands
    and packet lines as plain HTML (``labkit-static``); the widget's stylesheet hides it
    wherever the live widget renders, so a learner sees the view once."""

    static_html: str = ""

    def __repr__(self) -> str:  # the text a page shows when it cannot draw the widget
        return localize(tr("(a labkit view: the live picture needs its kernel; the saved copy is below)"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        if self.static_html:
            display({"text/html": self.static_html, "text/plain": localize(tr("(the static copy of the view above)"))}, raw=True)


def static_html(title: str | None, summary: str, svg: str, commands: list[str], capture: Any = None) -> str:
    """The view without JavaScript: what a saved, exported or GitHub-rendered notebook shows.

    Made for the sanitizer of an untrusted notebook: the picture is an ``<img>`` of the SVG (a
    page keeps those, not inline SVG), the text sits in ``<pre>`` (no maths typesetting of the
    ``$`` prompts), and no ``<style>`` element is needed."""
    picture = base64.b64encode(svg.encode()).decode()
    parts = ['<div class="labkit-static">']
    if title:
        parts.append(f"<h4>{_t(title) if isinstance(title, Text) else html.escape(title)}</h4>")
    saved = _t(tr("{summary} (saved copy of the view)", summary=summary))
    alt = _attr(tr("the lab's topology"))
    parts += [f"<p><small>{saved}</small></p>",
              f'<img alt="{alt}" style="max-width:100%" src="data:image/svg+xml;base64,{picture}">',
              f"<pre>{html.escape(chr(10).join(commands))}</pre>"]
    if capture is not None:
        for key in capture.devices:
            lines = capture.summaries(key)
            count = (tr("{n} packets (the last {shown} of them)", n=len(lines), shown=STATIC_ROWS) if len(lines) > STATIC_ROWS
                     else tr("{n} packets", n=len(lines)))
            parts.append(f"<p><b>{html.escape(key)}</b>: {_t(count)}</p>"
                         f"<pre>{html.escape(chr(10).join(lines[-STATIC_ROWS:]))}</pre>")
    parts.append("</div>")
    return "".join(parts)


def command_lines(changes: list[Any], capture: Any = None) -> list[str]:
    """The commands of ``changes`` (and of the capture) as plain shell lines with # comments."""
    lines = []
    for change in changes:
        title = localize(change.title)
        lines.append("# " + (title if change.did_change else localize(tr("{title}  (already so: nothing changed)", title=title))))
        lines += [f"$ {cmd}" for cmd in change.commands]
    if capture is not None and hasattr(capture, "commands"):
        lines.append("# " + localize(tr("captured with")))
        lines += [f"$ {cmd}" for cmd in capture.commands()]
    return lines


def view_summary(interfaces: int, namespaces: int, changed: int) -> Text:
    """The view's caption: '5 interfaces in 3 namespaces · 2 changes since the last view (highlighted)'."""
    size = tr("{interfaces} interfaces in {namespaces} namespaces", interfaces=interfaces, namespaces=namespaces)
    if not changed:
        return size
    if changed == 1:
        return tr("{size} · 1 change since the last view (highlighted)", size=size)
    return tr("{size} · {n} changes since the last view (highlighted)", size=size, n=changed)


def step_view(lab: Any, capture: Any = None, title: str | None = None) -> StepView:
    """One widget: topology (changes highlighted, packet paths), new commands, capture panes."""
    from ..render.view import TopologyView

    if capture is not None:
        finish(capture)
        getattr(capture, "hide_live", lambda: None)()  # its live panes make room for the view's
    snap, delta = lab.changes()
    view = TopologyView(snap, delta, paths=capture.path_counts() if capture is not None else None)
    start = min(lab._view_mark, len(lab.history))
    changes = list(lab.history[start:])
    lab._view_mark = len(lab.history)
    children: list[widgets.Widget] = []
    if title:
        children.append(widgets.HTML(f'<h4 style="margin:4px 0">{html.escape(localize(title))}</h4>'))
    summary = localize(view_summary(len(snap.interfaces), len(snap.namespaces), 0 if delta.empty else delta.count()))
    line = localize(tr("lab {lab} · {summary}", lab=snap.lab_id, summary=summary))
    children.append(widgets.HTML(f'<div style="color:var(--jp-content-font-color1,#444);font-size:12px">{html.escape(line)}</div>'))
    children.append(topology_widget(view))
    children.append(widgets.HTML(legend()))
    commands = commands_html(changes, capture)
    children.append(widgets.HTML(commands))
    if capture is not None:
        children.append(capture.panes())
    box = StepView(children, layout=widgets.Layout(width="100%"))
    box.add_class("labkit-step-view")
    box.static_html = static_html(title, line, view.svg(), command_lines(changes, capture), capture)
    return box
