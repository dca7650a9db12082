"""Capture panes: one pane per captured device, side by side, like terminals running tcpdump.

Each row is one packet, on one line: the time since the capture's window opened
(``t0``, when the last tcpdump listened), the direction seen from that device (``in``,
``out``, or ``·`` when the pcap cannot tell), then what decides the lesson, in bold
(``DHCP ACK 10.0.0.50 → 02:…``, ``ARP who-has 10.0.0.2? tell 10.0.0.1``: see
:mod:`labkit.capture.headline`), then the ``tcpdump -n -e``-style line, cut at the
pane's edge. A row opens (HTML ``<details>``) into the whole tcpdump line and every
scapy layer of the packet, so the expansion works without a kernel and in a saved
notebook.

A pane is as tall as its rows, up to ``MAX_HEIGHT`` (then it scrolls, and the learner
can drag its corner taller); its rows are drawn bottom-anchored (CSS
``column-reverse``), so while a capture runs the newest row stays in sight without
any script. Only the last ``max_rows`` rows are drawn, so a pane stays quick with a
capture of tens of thousands of packets; the header's count and ``cap.counts()`` stay
exact and the capture keeps every frame.

*Under load* (10,000 packets/s) the work of a redraw is decoding new rows with scapy (about
1–2 ms each here), in the notebook's process. Two bounds keep the notebook responsive: while the
capture runs, a redraw draws at most ``LIVE_NEW_ROWS`` rows it has not drawn before (the newest;
the line above them says how many are not drawn), and redraws are spaced so that they take at
most ``BUSY_SHARE`` of the time (at least ``REFRESH_EVERY`` apart). Once the capture stops, the
pane draws its last ``max_rows`` rows in full. Each pane links its pcap file for
Wireshark (inline as a ``data:`` URI up to ``MAX_INLINE``).
"""

from __future__ import annotations

import base64
import html
import time
from typing import Any

import ipywidgets as widgets

from ..i18n import Text, localize, tr
from .detail import DetailBridge

MAX_INLINE = 4 << 20  # bytes of pcap offered as an inline download link
REFRESH_EVERY = 0.3  # seconds between two redraws while a capture runs
MAX_HEIGHT = "min(70vh, 640px)"  # a pane grows with its rows up to this, then scrolls
LIVE_NEW_ROWS = 50  # while a capture runs, at most this many rows not drawn before are drawn per redraw
BUSY_SHARE = 0.25  # while a capture runs, redraws take at most this share of the notebook's time

STYLE = """<style>
.lk-pane-head{font:600 12px/1.5 var(--jp-ui-font-family,sans-serif);margin:0 0 4px 0}
.lk-pane-head .lk-sub{font-weight:400;color:var(--jp-ui-font-color2,#666)}
.lk-pane-head a{margin-left:6px}
.lk-rows{max-height:MAX_HEIGHT;min-height:1.6em;min-width:0;width:100%;box-sizing:border-box;overflow:hidden auto;
 resize:vertical;display:flex;flex-direction:column-reverse;white-space:normal;
 border:1px solid var(--jp-border-color2,#ddd);border-radius:4px;
 font:12px/1.5 var(--jp-code-font-family,monospace);background:var(--jp-layout-color1,#fff);padding:2px 0}
.labkit-capture-pane .widget-html,.labkit-capture-pane .widget-html-content{min-width:0;max-width:100%}
.lk-list{min-width:0}
.lk-row summary{display:flex;align-items:baseline;gap:0 6px;cursor:pointer;list-style:none;padding:0 6px;min-width:0}
.lk-row summary::-webkit-details-marker{display:none}
.lk-row:nth-child(even) summary{background:var(--jp-layout-color2,#f6f6f6)}
.lk-row[open] summary{background:rgba(255,200,40,.35)}
.lk-t{flex:none;color:var(--jp-ui-font-color2,#888)}
.lk-d{flex:none;width:2.2em;font-weight:600}
.lk-h{flex:0 1 auto;font-weight:600;color:var(--jp-content-font-color0,#111);overflow-wrap:anywhere}
.lk-x{flex:1 1 0;min-width:5em;contain:inline-size;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;
 color:var(--jp-ui-font-color2,#777)}
.lk-row[open] .lk-x{white-space:pre-wrap;overflow-wrap:anywhere}
.lk-row pre{margin:2px 6px 6px 18px;font-size:11px;max-height:260px;overflow:auto;white-space:pre;contain:inline-size;
 background:var(--jp-layout-color2,#f6f6f6);padding:4px}
.lk-in{color:#1f77b4}.lk-out{color:#2ca02c}.lk-none{color:#bbb}
.lk-more,.lk-empty{color:#888;padding:2px 6px;font-style:italic}
</style>""".replace("MAX_HEIGHT", MAX_HEIGHT)


def _t(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for HTML text."""
    return html.escape(localize(text), quote=False)


def _attr(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for an HTML attribute's value."""
    return html.escape(localize(text))


def _arrow(direction: str) -> str:
    """``in``/``out`` are tcpdump's own words (``-Q in``, Linux cooked headers): they stay; the tooltip is translated."""
    if direction == "in":
        title = _attr(tr("received by this device"))
        return f'<span class="lk-d lk-in" title="{title}">in</span>'
    if direction == "out":
        title = _attr(tr("sent by this device"))
        return f'<span class="lk-d lk-out" title="{title}">out</span>'
    title = _attr(tr("direction unknown from the pcap alone"))
    return f'<span class="lk-d lk-none" title="{title}">·</span>'


class CapturePane(widgets.VBox):
    """The pane of one device of a capture: header with counts and download link, then rows."""

    def __init__(self, capture: Any, key: str, max_rows: int = 200) -> None:
        self.capture = capture
        self.key = key
        self.max_rows = max_rows
        self._row_html: dict[int, str] = {}
        self.head = widgets.HTML()
        self.rows = widgets.HTML()
        super().__init__([self.head, self.rows], layout=widgets.Layout(flex="1 1 0%", min_width="0", margin="0 4px"))
        self.add_class("labkit-capture-pane")
        self.refresh()

    @property
    def dev(self) -> Any:
        return self.capture.devices[self.key]

    def visible(self) -> list[Any]:
        """The frames drawn: the last ``max_rows``; while the capture runs, no more than ``LIVE_NEW_ROWS``
        of them new since the last redraw (see the module docstring)."""
        frames = self.dev.frames
        shown = frames[-self.max_rows:] if self.max_rows else []
        if self.dev.running and getattr(self.capture, "running", False):
            new = sum(1 for frame in shown if frame.index not in self._row_html)
            if new > LIVE_NEW_ROWS:
                shown = shown[-LIVE_NEW_ROWS:]
        return shown

    def row_html(self, frame: Any) -> str:
        cached = self._row_html.get(frame.index)
        if cached is None:
            start = getattr(self.capture, "t0", None) or self.capture.started_at
            clock = f"+{frame.time - start:.3f}" if start else f"{frame.time:.3f}"
            direction = frame.direction(self.dev.mac, self.dev.is_port)
            try:
                layers = frame.layers()
            except Exception as exc:  # show the problem in the row, keep the pane
                layers = localize(tr("cannot show the layers: {error!r}", error=exc))
            head, line = frame.headline, frame.summary
            title = f"{frame.time - start:+.6f} s" if start else ""
            cached = (f'<details class="lk-row" data-key="{html.escape(self.key)}" data-index="{frame.index}">'
                      f'<summary><span class="lk-t" title="{title}">{clock}</span>'
                      f'{_arrow(direction)}<span class="lk-h">{html.escape(head or line)}</span>'
                      f'<span class="lk-x">{html.escape(line) if head else ""}</span></summary>'
                      f"<pre>{html.escape(layers)}</pre></details>")
            self._row_html[frame.index] = cached
        return cached

    def render_rows(self) -> str:
        frames = self.dev.frames
        shown = self.visible()
        parts = [STYLE, '<div class="lk-rows"><div class="lk-list">']
        if len(frames) > len(shown):
            call = f"cap.frames({self.key!r})"
            more = tr("… {hidden:,} earlier packets not drawn (all {total:,} are kept: {call})",
                      hidden=len(frames) - len(shown), total=len(frames), call=call)
            parts.append(f'<div class="lk-more">{_t(more)}</div>')
        if not frames:
            empty = _t(tr("no packets yet") if self.dev.running else tr("no packets"))
            parts.append(f'<div class="lk-empty">{empty}</div>')
        parts += [self.row_html(frame) for frame in shown]
        parts.append("</div></div>")
        if len(self._row_html) > 4 * max(self.max_rows, 50):  # forget rows that scrolled out
            keep = {frame.index for frame in shown}
            self._row_html = {k: v for k, v in self._row_html.items() if k in keep}
        return "".join(parts)

    def render_head(self) -> str:
        dev = self.dev
        n = len(dev.frames)
        sub = [_t(tr("{n:,} packet", n=n) if n == 1 else tr("{n:,} packets", n=n))]
        if dev.stats.get("captured") is not None:
            sub.append(_t(tr("tcpdump: {captured} captured, {dropped} dropped by kernel",
                             captured=dev.stats["captured"], dropped=dev.stats.get("dropped") or 0)))
            if dev.lost:
                lost = _t(tr("{n} lost", n=dev.lost))
                sub.append(f"<b style='color:#d62728'>{lost}</b>")
        elif dev.running:
            sub.append(_t(tr("capturing…")))
        if getattr(dev, "outside", 0):
            why = tr("before every tcpdump listened, or after the stop: kept in the .pcap only")
            outside = _t(tr("{n} outside the capture's window", n=dev.outside))
            sub.append(f"<span title='{_attr(why)}'>{outside}</span>")
        if dev.mac and dev.mac != "00:00:00:00:00:00":
            sub.append(_t(tr("MAC {mac} (bridge port)", mac=dev.mac) if dev.is_port else tr("MAC {mac}", mac=dev.mac)))
        return (f'<div class="lk-pane-head">{html.escape(self.key)} <span class="lk-sub">· {" · ".join(sub)}</span>'
                f"{self.download_link()}</div>")

    def download_link(self) -> str:
        dev = self.dev
        if dev.running or not dev.frames:
            return ""
        name = f"{dev.ns}-{dev.dev}.pcap"
        data = dev.stream.pcap_bytes()
        if len(data) > MAX_INLINE:
            big = tr("({mb:.1f} MB: too big to link here; cap.save('captures/') writes {name})", mb=len(data) / 1e6, name=name)
            return f' <span class="lk-sub">{_t(big)}</span>'
        uri = "data:application/vnd.tcpdump.pcap;base64," + base64.b64encode(data).decode("ascii")
        title = _attr(tr("open it in Wireshark"))
        return f'<a download="{html.escape(name)}" href="{uri}" title="{title}">⬇ {html.escape(name)}</a>'

    def refresh(self) -> None:
        self.head.value = self.render_head()
        self.rows.value = self.render_rows()


class CapturePanes(widgets.VBox):
    """Every device of a capture, one pane each, side by side; redrawn as packets arrive."""

    def __init__(self, capture: Any, max_rows: int = 200) -> None:
        self.capture = capture
        self.panes = [CapturePane(capture, key, max_rows) for key in capture.devices]
        filt = f"<code>{html.escape(capture.filter)}</code>" if capture.filter else _t(tr("all packets"))
        caption = _t(tr("filter: {filter} · click a packet to see its layers", filter="\0")).replace("\0", filt)
        self.title = widgets.HTML(f'<div class="lk-pane-head">tcpdump <span class="lk-sub">{caption}</span></div>')
        self.detail = DetailBridge(capture)  # the row-click detail under the panes: Wireshark's tree, Follow stream
        super().__init__([self.title, widgets.HBox(self.panes, layout=widgets.Layout(width="100%", align_items="stretch")),
                          self.detail], layout=widgets.Layout(width="100%"))
        self.add_class("labkit-capture")
        self._last = 0.0
        self._cost = 0.0  # seconds the last redraw took
        capture.listeners.append(self._on_update)

    def _on_update(self, capture: Any) -> None:
        now = time.monotonic()
        if capture.running and now - self._last < max(REFRESH_EVERY, self._cost / BUSY_SHARE):
            return
        self.refresh()
        self._cost = time.monotonic() - now
        self._last = time.monotonic()

    def refresh(self) -> None:
        for pane in self.panes:
            pane.refresh()
        self.detail.refresh()
