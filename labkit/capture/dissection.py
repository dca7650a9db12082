"""What Wireshark says about a packet, as plain data: the dissection tree, and a followed stream.

Wireshark's *dissection tree* is the middle pane of its window: one node per protocol
(Frame, Ethernet II, IPv4, TCP, ...), and inside each the fields, every field with the
bytes it was read from (``start``, ``length``: the highlighted bytes of the bottom
pane) and its *display filter* (``tcp.srcport == 40000``: type it in the filter bar and
you get every packet with that value). Lines in square brackets are *generated*:
Wireshark computed them (a stream index, a relative sequence number), they are not in
the bytes.

*Follow TCP stream* puts together the payload bytes one TCP connection carried, in
both directions, in the order they went: what the client sent (red in Wireshark) and
what the server answered (blue). For UDP it does the same for one address/port pair.

This module is pure: it turns sharkd's JSON replies (see :mod:`.sharkd`) into these
objects, and a scapy packet into the same tree when sharkd is absent (fewer fields,
byte ranges for whole layers only).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import TargetError
from ..i18n import Text, localize, tr

SEVERITY = {0x100000: "comment", 0x200000: "chat", 0x400000: "note", 0x600000: "warning", 0x800000: "error"}
NO_SHARKD = tr("Wireshark's sharkd is not installed here, so this is scapy's decoding (no byte range per field); "
               "for Wireshark's tree: apt-get install wireshark-common")


@dataclass(frozen=True)
class Node:
    """One line of the dissection tree."""

    label: str
    field: str = ""              # 'tcp.srcport'; '' for a line that is text only
    filter: str = ""             # 'tcp.srcport == 40000': a display filter that matches this value
    start: int | None = None     # the field's bytes: data[start:start + length] of its data source
    length: int | None = None
    source: int = 0              # 0: the frame's bytes; 1, 2...: a reassembled or decoded buffer
    generated: bool = False      # computed by Wireshark, not read from the bytes
    protocol: bool = False       # a protocol's own line (Frame, Ethernet II, TCP...)
    severity: str = ""           # expert info: 'chat', 'note', 'warning', 'error'
    children: tuple[Node, ...] = ()

    @property
    def range(self) -> tuple[int, int] | None:
        """(start, end) of the field's bytes, or None when it has none."""
        return None if self.start is None or self.length is None else (self.start, self.start + self.length)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class Dissection:
    """A packet as Wireshark (or scapy, see ``by``) dissects it."""

    device: str                  # 'h2/eth0'
    number: int                  # frame number in that device's capture, from 1 as Wireshark counts
    tree: tuple[Node, ...]
    data: bytes                  # the frame's bytes, that ``start``/``length`` point into
    by: str                      # 'sharkd' or 'scapy'
    note: str = ""               # why this is not Wireshark's tree, when it is not
    followers: tuple[tuple[str, str], ...] = ()  # ('TCP', 'tcp.stream eq 0'): streams this frame belongs to
    sources: tuple[tuple[str, bytes], ...] = ()  # other data sources (reassembled, decompressed...)

    def walk(self) -> Iterator[Node]:
        for node in self.tree:
            yield from node.walk()

    def find(self, name: str) -> Node | None:
        """The first node of field ``name`` ('tcp.srcport'), or of protocol ``name`` ('tcp')."""
        return next((node for node in self.walk() if node.field == name), None)

    def field_bytes(self, name: str) -> bytes:
        """The bytes the field was read from (empty when it has no range)."""
        node = self.find(name)
        if node is None or node.range is None:
            return b""
        data = self.data if node.source == 0 else self.sources[node.source - 1][1]
        return data[node.range[0]:node.range[1]]

    def text(self) -> str:
        head = localize(tr("{device} frame {number} (dissected by {by})", device=self.device, number=self.number, by=self.by))
        lines = [head] + ([localize(self.note)] if self.note else [])

        def add(node: Node, depth: int) -> None:
            where = f"  [{node.range[0]}:{node.range[1]}]" if node.range else ""
            label = f"[{node.label}]" if node.generated else node.label
            lines.append("  " * depth + label + where)
            for child in node.children:
                add(child, depth + 1)

        for node in self.tree:
            add(node, 0)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from ..widgets.detail_html import dissection_html

        return dissection_html(self)


@dataclass(frozen=True)
class Chunk:
    """One piece of a followed stream: the payload of one frame, and who sent it."""

    frame: int
    from_server: bool
    data: bytes


@dataclass(frozen=True)
class FollowStream:
    """Both directions of one TCP connection (or UDP flow), as Wireshark's Follow window shows them."""

    device: str
    proto: str                   # 'TCP' or 'UDP'
    filter: str                  # 'tcp.stream eq 0'
    client: tuple[str, int]      # who spoke first (Wireshark's "client")
    server: tuple[str, int]
    chunks: tuple[Chunk, ...] = ()

    @property
    def client_data(self) -> bytes:
        """Everything the client sent, in order."""
        return b"".join(c.data for c in self.chunks if not c.from_server)

    @property
    def server_data(self) -> bytes:
        """Everything the server sent, in order."""
        return b"".join(c.data for c in self.chunks if c.from_server)

    def text(self) -> str:
        head = localize(tr("Follow {proto} stream ({filter}) on {device}: client {client} sent {sent} bytes, "
                           "server {server} sent {answered}", proto=self.proto, filter=self.filter, device=self.device,
                           client=_endpoint(self.client), sent=len(self.client_data),
                           server=_endpoint(self.server), answered=len(self.server_data)))
        arrows = [localize(tr("{arrow} frame {frame}: {data!r}", arrow="<<" if c.from_server else ">>", frame=c.frame,
                              data=c.data.decode("utf-8", "replace")))
                  for c in self.chunks]
        return "\n".join([head, *arrows])

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from ..widgets.detail_html import follow_html

        return follow_html(self)


def _endpoint(host_port: tuple[str, int]) -> str:
    return f"{host_port[0]}:{host_port[1]}"


# -- sharkd's replies -------------------------------------------------------------
def _severity(value: Any) -> str:
    """Expert info level: sharkd 4.0 says 'Chat', 'Note', 'Warning', 'Error'; older ones the number."""
    if isinstance(value, str):
        return value.lower()
    return SEVERITY.get(int(value or 0), "")


def _node(raw: dict[str, Any]) -> Node:
    filt = str(raw.get("f", ""))
    name = str(raw.get("fn") or filt.split(" ", 1)[0])  # sharkd 4.0 gives the filter only ('tcp.srcport == 1')
    if name == "text":
        name = ""
    where = raw.get("h")
    start, length = (int(where[0]), int(where[1])) if isinstance(where, list) and len(where) == 2 else (None, None)
    return Node(label=str(raw.get("l", "")), field=name, filter=filt if " " in filt else "", start=start, length=length,
                source=int(raw.get("ds", 0)), generated=bool(raw.get("g")), protocol=raw.get("t") == "proto",
                severity=_severity(raw.get("s")),
                children=tuple(_node(child) for child in raw.get("n", []) or []))


def parse_frame(result: Any, device: str, number: int) -> Dissection:
    """sharkd's answer to ``frame`` with ``proto`` and ``bytes`` → a :class:`Dissection`."""
    if not isinstance(result, dict) or not isinstance(result.get("tree"), list):
        raise TargetError(tr("sharkd sent no dissection tree for frame {number}", number=number), where=device,
                          hint=tr("the sharkd installed may be too old; labkit was tested with Debian 12's 4.0.17"))
    sources = tuple((str(ds.get("name", f"source {i + 1}")), base64.b64decode(ds.get("bytes", "")))
                    for i, ds in enumerate(result.get("ds", []) or []))
    followers = tuple((str(proto), str(filt)) for proto, filt in result.get("fol", []) or [])
    return Dissection(device, number, tuple(_node(raw) for raw in result["tree"]),
                      base64.b64decode(result.get("bytes", "")), "sharkd", followers=followers, sources=sources)


def parse_follow(result: Any, device: str, proto: str, filter: str) -> FollowStream:
    """sharkd's answer to ``follow`` → a :class:`FollowStream`.

    sharkd marks each payload sent by the server with ``"s": 1``; its byte counters
    (``sbytes``/``cbytes``) are not used, as 4.0 counts a one-way UDP flow on the wrong side."""
    if not isinstance(result, dict) or "chost" not in result:
        raise TargetError(tr("sharkd's follow reply has no endpoints: {reply}", reply=str(result)[:200]), where=device)
    chunks = tuple(Chunk(int(p.get("n", 0)), bool(p.get("s")), base64.b64decode(p.get("d", "")))
                   for p in result.get("payloads", []) or [])
    return FollowStream(device, proto, filter, (str(result["chost"]), int(result.get("cport") or 0)),
                        (str(result["shost"]), int(result.get("sport") or 0)), chunks)


# -- scapy, when sharkd is absent ------------------------------------------------------
def scapy_dissection(packet: Any, data: bytes, device: str, number: int, note: Text | str = NO_SHARKD) -> Dissection:
    """The same tree from scapy's layers: one protocol node per layer (with the layer's byte range)
    and its fields (without byte ranges: scapy does not keep them)."""
    layers: list[Node] = []
    layer, total = packet, len(data)
    while layer is not None and layer.name != "NoPayload" and type(layer).__name__ != "NoPayload":
        try:
            size = len(bytes(layer))
        except Exception:  # a layer scapy cannot build again: show it without a range
            size = -1
        start = total - size if 0 <= size <= total else None
        fields = tuple(Node(f"{f.name}: {layer.get_field(f.name).i2repr(layer, getattr(layer, f.name))}",
                            field=f"{layer.name}.{f.name}") for f in layer.fields_desc)
        own = size - len(bytes(layer.payload)) if start is not None else None
        layers.append(Node(layer.name, field=layer.name, start=start, length=own, protocol=True, children=fields))
        layer = layer.payload if layer.payload else None
    return Dissection(device, number, tuple(layers), data, "scapy", note=note)


