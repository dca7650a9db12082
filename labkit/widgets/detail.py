"""The detail area under the capture panes: Wireshark's tree of the clicked packet, and Follow stream.

Clicking a row opens it into scapy's layers, as before (that works in a saved notebook
too). Where Wireshark's ``sharkd`` is installed, the same click also asks Python, through
this small widget (``detail.js``), for Wireshark's dissection of that packet: it appears
under the panes, full width, with every field's byte range, its bytes and its display
filter, and a hex dump; a TCP or UDP packet gets a "Follow stream" button that shows
both directions of its conversation. The area's first line links the whole capture as
one ``.pcapng`` (every device an interface) once the capture has stopped.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..errors import LabkitError
from ..i18n import localize, tr
from .detail_html import dissection_html, follow_html

HERE = Path(__file__).parent
MAX_INLINE = 4 << 20  # bytes of pcapng offered as an inline download link


def wait_labels() -> dict[str, str]:
    """What detail.js writes while Python answers a click, in the learner's language."""
    return {"follow": localize(tr("Wireshark follows the stream")),
            "dissect": localize(tr("Wireshark dissects {key} frame {frame}", key="{key}", frame="{frame}"))}


class DetailBridge(anywidget.AnyWidget):
    """Row clicks in → Wireshark's detail out (``request`` from the browser, ``html`` back)."""

    _esm = HERE / "detail.js"
    _css = HERE / "detail.css"
    request = traitlets.Dict().tag(sync=True)
    html = traitlets.Unicode("").tag(sync=True)
    footer = traitlets.Unicode("").tag(sync=True)
    enabled = traitlets.Bool(False).tag(sync=True)
    #: the words detail.js shows while it waits, in the learner's language ({key}, {frame} filled in by the script)
    labels = traitlets.Dict().tag(sync=True)

    def __init__(self, capture: Any, **kwargs: Any) -> None:
        self.capture = capture
        self._tree = ""  # the last packet's tree, kept under a followed stream
        self._drawn: tuple[bool, int] | None = None  # (running, packets) the first line was drawn for
        wireshark = getattr(capture, "wireshark", None)  # a capture-like object without one: scapy only
        super().__init__(enabled=bool(wireshark is not None and wireshark.available), labels=wait_labels(), **kwargs)
        self.add_class("labkit-capture-detail")
        self.observe(self._on_request, names="request")
        self.refresh()

    def answer(self, kind: str, key: str, index: int) -> str:
        """The HTML for one request: a packet's tree (kind 'dissect') or its stream (kind 'follow')."""
        try:
            if kind == "follow":  # the stream above the packet's tree, which stays
                return follow_html(self.capture.follow(key, index)) + self._tree
            dissection = self.capture.dissect(key, index)
            streams = [proto for proto, _filter in dissection.followers if proto.upper() in ("TCP", "UDP")]
            button = ""
            if streams:
                title = html.escape(localize(tr("both directions of this conversation, as Wireshark's Follow window")))
                label = html.escape(localize(tr("Follow {proto} stream", proto=streams[0].upper())), quote=False)
                button = (f'<button class="lk-follow" data-lk-follow="1" data-key="{html.escape(key)}" data-index="{index}"'
                          f' title="{title}">{label}</button>')
            self._tree = dissection_html(dissection, follow_button=button)
            return self._tree
        except LabkitError as exc:
            return f'<div class="lk-detail-err">{html.escape(exc.message)}</div>'

    def _on_request(self, change: dict[str, Any]) -> None:
        req = change["new"] or {}
        if req.get("key") is None or req.get("index") is None:
            return
        self.html = self.answer(str(req.get("kind", "dissect")), str(req["key"]), int(req["index"]))

    def refresh(self) -> None:
        """The first line: what a click shows here, and the whole capture as one pcapng once stopped."""
        cap = self.capture
        state = (bool(cap.running), sum(len(dev.frames) for dev in cap.devices.values()))
        if state == self._drawn:  # the pcapng of 20,000 packets takes about a second to write
            return
        self._drawn = state
        parts = []
        if hasattr(cap, "pcapng") and not state[0] and state[1]:
            data = cap.pcapng()
            if len(data) <= MAX_INLINE:
                uri = "data:application/x-pcapng;base64," + base64.b64encode(data).decode("ascii")
                title = html.escape(localize(tr("every device of this capture in one file, one interface each: "
                                                "one Wireshark window")))
                parts.append(f'<a download="capture.pcapng" href="{uri}" title="{title}">⬇ capture.pcapng</a>')
            else:
                parts.append(html.escape(localize(tr("(capture.pcapng is {mb:.1f} MB: cap.save('captures/') writes it)",
                                                     mb=len(data) / 1e6)), quote=False))
        if self.enabled:
            parts.append(html.escape(localize(tr("click a packet: its layers open in the row, Wireshark's tree (sharkd) appears here")),
                                     quote=False))
        else:
            parts.append(html.escape(localize(tr("click a packet for its layers (scapy); for Wireshark's tree and Follow stream "
                                                 "here: apt-get install wireshark-common")), quote=False))
        self.footer = f'<div class="lk-detail-foot">{" · ".join(parts)}</div>'
