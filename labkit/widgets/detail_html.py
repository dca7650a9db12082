"""HTML of Wireshark's detail: the dissection tree (with each field's bytes) and a followed stream.

Pure functions of the plain objects of :mod:`labkit.capture.dissection`; no script, so
the same HTML works in a live pane, in a cell's output and in a saved notebook. Each
field shows where its bytes are (``[34:36]``) and, when short, the bytes themselves;
hovering a line shows its display filter (and, in the live pane, lights up its bytes). A hex dump of the whole frame follows, as
in Wireshark's bottom pane. Colours come from JupyterLab's ``--jp-*`` variables (light
and dark themes), client/server tints are translucent.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..i18n import Text, localize, tr

if TYPE_CHECKING:
    from ..capture.dissection import Dissection, FollowStream, Node

def _t(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for HTML text."""
    return html.escape(localize(text), quote=False)


def _attr(text: Text | str) -> str:
    """A sentence in the learner's language, escaped for an HTML attribute's value."""
    return html.escape(localize(text))


INLINE_BYTES = 16  # a field's bytes are shown on its line up to this length
MAX_FOLLOW = 64 << 10  # characters of a followed stream drawn

STYLE = """<style>
.lk-shark{font:11px/1.45 var(--jp-code-font-family,monospace);color:var(--jp-content-font-color1,#222);margin:2px 0}
.lk-shark .lk-shark-head{font:600 11.5px/1.5 var(--jp-ui-font-family,sans-serif);margin:0 0 2px 0}
.lk-shark .lk-shark-head .lk-sub{font-weight:400;color:var(--jp-ui-font-color2,#666)}
.lk-shark details{margin-left:14px}.lk-shark>details,.lk-shark>.lk-tree>details{margin-left:0}
.lk-shark summary{cursor:pointer}.lk-shark .lk-leaf{margin-left:14px;white-space:pre-wrap}
.lk-shark .lk-proto>summary{font-weight:600}
.lk-shark .lk-gen{color:var(--jp-ui-font-color2,#777);font-style:italic}
.lk-shark .lk-rng{color:var(--jp-ui-font-color2,#888);margin-left:8px}
.lk-shark .lk-hex{color:#b26b00;margin-left:6px}
.lk-shark .lk-warn{color:#c0392b}
.lk-shark pre{margin:4px 0;padding:4px;background:var(--jp-layout-color2,#f4f4f4);overflow:auto;max-height:240px}
.lk-shark .lk-bytes span.lk-hl{background:#ffd54f;color:#000}
.lk-shark .lk-c{background:rgba(214,39,40,.16);color:inherit}.lk-shark .lk-s{background:rgba(31,119,180,.18);color:inherit}
</style>"""


def _line(node: Node) -> str:
    label = html.escape(f"[{node.label}]" if node.generated else node.label)
    cls = "lk-gen" if node.generated else ("lk-warn" if node.severity in ("warning", "error") else "")
    text = f'<span class="{cls}">{label}</span>' if cls else label
    if node.range is not None:
        text += f'<span class="lk-rng">[{node.range[0]}:{node.range[1]}]</span>'
    return text


def _node_html(node: Node, data: bytes, sources: list[bytes]) -> str:
    title = f' title="{html.escape(node.filter)}"' if node.filter else ""
    if node.range is not None and node.source == 0:  # the live widget highlights these bytes on hover
        title += f' data-r="{node.range[0]},{node.range[1]}"'
    text = _line(node)
    if node.range is not None and 0 < (node.length or 0) <= INLINE_BYTES and not node.protocol:
        buf = data if node.source == 0 else (sources[node.source - 1] if node.source <= len(sources) else b"")
        text += f'<span class="lk-hex">{buf[node.range[0]:node.range[1]].hex(" ")}</span>'
    if not node.children:
        return f'<div class="lk-leaf"{title}>{text}</div>'
    cls = ' class="lk-proto"' if node.protocol else ""
    inner = "".join(_node_html(child, data, sources) for child in node.children)
    return f"<details{cls}><summary{title}>{text}</summary>{inner}</details>"


def hexdump(data: bytes, spans: bool = False) -> str:
    """Wireshark's bytes pane: offset, 16 bytes in hex, the same as text (with ``spans``: HTML, every
    byte a ``<span data-b="i">`` that a hovered field can light up)."""
    rows = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16]
        hexes = [f"{b:02x}" for b in chunk]
        chars = [html.escape(chr(b)) if 32 <= b < 127 else "." for b in chunk]
        if spans:
            hexes = [f'<span data-b="{off + i}">{h}</span>' for i, h in enumerate(hexes)]
            chars = [f'<span data-b="{off + i}">{c}</span>' for i, c in enumerate(chars)]
        pad = "   " * (16 - len(chunk))
        rows.append(f"{off:04x}  {' '.join(hexes)}{pad}  {''.join(chars)}")
    return "\n".join(rows)


def dissection_html(d: Dissection, *, follow_button: str = "") -> str:
    """The tree of one packet, then its bytes; ``follow_button`` is extra HTML put in the heading."""
    sources = [buf for _name, buf in d.sources]
    by = "Wireshark (sharkd)" if d.by == "sharkd" else d.by
    frame = _t(tr("{device} · frame {number}", device=d.device, number=d.number))
    sub = _t(tr("dissected by {by} · hover a line for its display filter", by=by))
    head = f'<div class="lk-shark-head">{frame} <span class="lk-sub">{sub}</span>{follow_button}</div>'
    note = f'<div class="lk-sub lk-gen">{_t(d.note)}</div>' if d.note else ""
    tree = "".join(_node_html(node, d.data, sources) for node in d.tree)
    return (f'{STYLE}<div class="lk-shark">{head}{note}<div class="lk-tree">{tree}</div>'
            f'<pre class="lk-bytes">{hexdump(d.data, spans=True)}</pre></div>')


def _endpoint(host_port: tuple[str, int]) -> str:
    return f"{host_port[0]}:{host_port[1]}"


def follow_html(f: FollowStream) -> str:
    """Wireshark's Follow window: the client's bytes tinted red, the server's blue, in the order sent."""
    parts, shown = [], 0
    for chunk in f.chunks:
        decoded = chunk.data.decode("utf-8", "replace").replace("\r\n", "\n")  # line ends as lines, as Wireshark's ASCII view
        text = "".join(ch if ch.isprintable() or ch in "\n\t" else "." for ch in decoded)
        if shown + len(text) > MAX_FOLLOW:
            cut = _t(tr("… (cut here; FollowStream.client_data / .server_data hold it all)"))
            parts.append(f'<span class="lk-gen">{cut}</span>')
            break
        shown += len(text)
        cls = "lk-s" if chunk.from_server else "lk-c"
        who = (tr("frame {frame}, sent by the server", frame=chunk.frame) if chunk.from_server
               else tr("frame {frame}, sent by the client", frame=chunk.frame))
        parts.append(f'<span class="{cls}" title="{_attr(who)}">{html.escape(text)}</span>')
    if not f.chunks:
        none = _t(tr("(no payload: the stream carried no data bytes)"))
        parts.append(f'<span class="lk-gen">{none}</span>')
    title = _t(tr("Follow {proto} stream {filter} on {device}", proto=f.proto, filter="\0", device=f.device))
    title = title.replace("\0", f"<code>{html.escape(f.filter)}</code>")
    client = _t(tr("client {address} → {n} bytes", address=_endpoint(f.client), n=len(f.client_data)))
    server = _t(tr("server {address} → {n} bytes", address=_endpoint(f.server), n=len(f.server_data)))
    head = (f'<div class="lk-shark-head">{title} <span class="lk-sub">· <span class="lk-c">{client}</span>'
            f' · <span class="lk-s">{server}</span></span></div>')
    return f'{STYLE}<div class="lk-shark">{head}<pre>{"".join(parts)}</pre></div>'
