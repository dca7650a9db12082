"""Decoding rtnetlink notifications into a learner's words, from messages recorded on a real kernel.

tests/unit/data/rtnl_watch.json holds the datagrams a NETLINK_ROUTE socket bound to the link, address,
route and neighbour groups received in a lab's ``main`` while a bridge port came up under STP
(forward_delay 2 s), an address moved to br0 and a veth was added and deleted; ``seed_links`` is the
links dump taken before.
"""

from __future__ import annotations

import json
from pathlib import Path

from labkit.targets.rtnl_events import GROUPS, Decoder, messages

DATA = json.loads((Path(__file__).parent / "data" / "rtnl_watch.json").read_text())


def _decoded() -> list[tuple[str, str, str]]:
    decoder = Decoder("main")
    decoder.seed(DATA["seed_links"])
    return [(m["step"], e["what"], e["summary"]) for m in DATA["messages"] for e in decoder.decode(bytes.fromhex(m["data"]))]


def test_each_recorded_change_says_what_changed() -> None:
    assert _decoded() == [
        ("up veth0", "link", "veth0 set up"),
        ("up veth0", "route", "route 10.9.0.0/24 dev veth0 added"),
        ("up veth0", "link", "veth0 (port of br0): disabled → listening"),
        ("up veth0", "link", "veth0 state UP"),
        ("move_ip veth0 br0", "addr", "10.9.0.1/24 removed from veth0"),
        ("move_ip veth0 br0", "route", "route 10.9.0.0/24 dev veth0 removed"),
        ("move_ip veth0 br0", "addr", "10.9.0.1/24 on br0"),
        ("move_ip veth0 br0", "route", "route 10.9.0.0/24 dev br0 added"),
        ("veth veth1", "link", "veth1 added (veth)"),
        ("stp", "addr", "fe80::38b9:2fff:fe98:7f98/64 on veth0"),
        ("stp", "link", "veth0 (port of br0): listening → learning"),
        ("stp", "link", "veth0 (port of br0): learning → forwarding"),
        ("stp", "link", "br0 state UP"),
        ("stp", "addr", "fe80::38b9:2fff:fe98:7f98/64 on br0"),
        ("stp", "neigh", "veth0 learned da:1d:a3:47:3a:3b"),
        ("delete veth1", "link", "veth1 removed"),
    ]


def test_the_kernel_repeating_itself_says_nothing() -> None:
    """One `ip link set up` sends several RTM_NEWLINKs; told twice, a link change is told once."""
    decoder = Decoder("main")
    decoder.seed(DATA["seed_links"])
    links = [bytes.fromhex(m["data"]) for m in DATA["messages"] if m["step"] == "up veth0"]
    first: list[dict[str, str]] = []
    again: list[dict[str, str]] = []
    for data in links:  # each message delivered twice in a row
        first += [e for e in decoder.decode(data) if e["what"] == "link"]
        again += [e for e in decoder.decode(data) if e["what"] == "link"]
    assert len(first) == 3 and again == []


def test_datagrams_split_into_messages_and_groups_cover_the_lesson() -> None:
    sizes = [len(messages(bytes.fromhex(m["data"]))) for m in DATA["messages"]]
    assert all(n >= 1 for n in sizes)
    assert GROUPS == 0b10101010101  # link, neigh, ipv4 addr, ipv4 route, ipv6 addr, ipv6 route: groups 1 3 5 7 9 11


def test_the_same_changes_read_in_chinese_after_crossing_the_pipe() -> None:
    """The agent (no LABKIT_LANG) sends each summary in English plus its ids; the notebook shows it translated."""
    from labkit import i18n

    decoder = Decoder("main")
    decoder.seed(DATA["seed_links"])
    events = [json.loads(json.dumps(e)) for m in DATA["messages"] for e in decoder.decode(bytes.fromhex(m["data"]))]
    i18n.use("zh")
    try:
        shown = [i18n.received(e, "summary") for e in events]
    finally:
        i18n.use(None)
    assert "veth0 已启用（up）" in shown and "veth0（br0 的端口）：disabled → listening" in shown
    assert "10.9.0.1/24 已从 veth0 删除" in shown and "已添加路由 10.9.0.0/24 dev br0" in shown
    assert not [text for text in shown if any(word in text for word in (" set up", " removed", " added", "port of"))], shown
    assert [i18n.received(e, "summary") for e in events] == [e["summary"] for e in events]  # English stays as it was
