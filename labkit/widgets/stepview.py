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

import html
import time
from typing import Any

import ipywidgets as widgets

from .topology import topology_widget

COUNT_GRACE = 10.0


def commands_html(changes: list[Any], capture: Any = None) -> str:
    """The commands of ``changes`` as a shell transcript; steps that changed nothing are marked."""
    lines = []
    for change in changes:
        mark = "" if change.did_change else "  # already so: nothing changed"
        lines.append(f'<span class="lk-c"># {html.escape(change.title)}{html.escape(mark)}</span>')
        lines += [f"$ {html.escape(cmd, quote=False)}" for cmd in change.commands]
    if capture is not None and hasattr(capture, "commands"):
        lines.append('<span class="lk-c"># captured with (one tcpdump per device, all listening before the traffic)</span>')
        lines += [f"$ {html.escape(cmd, quote=False)}" for cmd in capture.commands()]
    if not lines:
        lines.append('<span class="lk-c"># no new commands since the last view</span>')
    return ('<style>.lk-cmds{font:12px/1.5 var(--jp-code-font-family,monospace);background:var(--jp-layout-color2,#f6f6f6);'
            "padding:6px 10px;border-radius:4px;margin:4px 0;white-space:pre-wrap}.lk-cmds .lk-c{color:#888}"
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


def step_view(lab: Any, capture: Any = None, title: str | None = None) -> widgets.VBox:
    """One widget: topology (changes highlighted, packet paths), new commands, capture panes."""
    from ..render.view import TopologyView

    if capture is not None:
        finish(capture)
    snap, delta = lab.changes()
    view = TopologyView(snap, delta, paths=capture.path_counts() if capture is not None else None)
    start = min(lab._view_mark, len(lab.history))
    changes = list(lab.history[start:])
    lab._view_mark = len(lab.history)
    children: list[widgets.Widget] = []
    if title:
        children.append(widgets.HTML(f'<h4 style="margin:4px 0">{html.escape(title)}</h4>'))
    changed = [] if delta.empty else delta.lines()
    summary = f"{len(snap.interfaces)} interfaces in {len(snap.namespaces)} namespaces"
    if changed:
        summary += f" · {len(changed)} change{'s' if len(changed) != 1 else ''} since the last view (highlighted)"
    children.append(widgets.HTML(f'<div style="color:#666;font-size:12px">lab {html.escape(snap.lab_id)} · {summary}</div>'))
    children.append(topology_widget(view))
    children.append(widgets.HTML(commands_html(changes, capture)))
    if capture is not None:
        children.append(capture.panes())
    box = widgets.VBox(children, layout=widgets.Layout(width="100%"))
    box.add_class("labkit-step-view")
    return box
