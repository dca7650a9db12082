"""The parser on recorded kernel dumps (tests/unit/data/*.json, recorded from a real lab)."""

from labkit.model import Snapshot
from labkit.state.parse import flag_names, link_kind, nud_name, parse


def test_every_namespace_and_interface_is_found(recorded: dict) -> None:
    snap = parse(recorded)
    assert [ns.name for ns in snap.namespaces] == ["main", "upstream", "h1"]
    assert {i.key for i in snap.interfaces} >= {"main/br0", "main/veth0", "main/veth1", "main/v-h1", "h1/eth0",
                                                 "main/tap0", "main/tun0", "main/mv0", "main/vx0", "upstream/lan"}


def test_veth_peers_are_resolved_across_namespaces(recorded: dict) -> None:
    snap = parse(recorded)
    assert snap.interface("veth0").peer == "main/veth1"
    assert snap.interface("v-h1").peer == "h1/eth0"
    assert snap.interface("eth0", "h1").peer == "main/v-h1"
    assert snap.interface("eth0").peer == "upstream/port-main"


def test_bridge_ports_have_master_and_stp_state(recorded: dict) -> None:
    snap = parse(recorded)
    ports = [p.name for p in snap.ports_of("br0")]
    assert ports == ["veth0", "v-h1"]
    assert all(p.stp_state == "forwarding" for p in snap.ports_of("br0"))
    br0 = snap.interface("br0")
    assert br0.detail("stp") == 1 and br0.detail("forward_delay_cs") == 200
    assert br0.mac == min(p.mac for p in snap.ports_of("br0")), "a bridge takes the lowest MAC of its ports"


def test_move_ip_left_the_address_on_the_bridge(recorded: dict) -> None:
    snap = parse(recorded)
    assert snap.interface("br0").addresses == ("20.1.0.10/24",)
    assert snap.interface("veth0").addresses == ()


def test_tun_has_no_mac_and_tap_has_one(recorded: dict) -> None:
    snap = parse(recorded)
    tun, tap = snap.interface("tun0"), snap.interface("tap0")
    assert tun.kind == "tun" and tun.mac is None and "POINTOPOINT" in tun.flags and "NOARP" in tun.flags
    assert tap.kind == "tap" and tap.mac and tap.detail("persist") is True
    assert tun.state == "DOWN", "a persistent tun with no program holding it has no carrier"


def test_stacked_devices_know_their_parent(recorded: dict) -> None:
    snap = parse(recorded)
    assert snap.interface("mv0").link == "main/eth0"
    vx0 = snap.interface("vx0")
    assert vx0.link == "main/eth0" and vx0.detail("vni") == 42 and vx0.mtu == 1450


def test_routes_fdb_and_neighbours(recorded: dict) -> None:
    snap = parse(recorded)
    default = [r for r in snap.routes if r.namespace == "h1" and r.dst == "default"]
    assert default and default[0].gateway == "20.1.0.10" and default[0].dev == "eth0"
    assert any(e.bridge == "br0" and e.port == "v-h1" and not e.permanent for e in snap.fdb)
    assert any(n.namespace == "main" and n.ip == "20.1.0.21" for n in snap.neighbours)


def test_snapshot_round_trips_through_json(recorded: dict) -> None:
    snap = parse(recorded)
    assert Snapshot.from_dict(snap.to_dict()) == snap


def test_pure_decoders() -> None:
    assert flag_names(0x1 | 0x2 | 0x1000 | 0x10000) == ("UP", "BROADCAST", "MULTICAST", "LOWER_UP")
    assert nud_name(0x02) == "REACHABLE" and nud_name(0) == "NONE"
    assert link_kind({"IFLA_LINKINFO": {"IFLA_INFO_KIND": "tun", "IFLA_INFO_DATA": {"IFLA_TUN_TYPE": 2}}}) == "tap"
    assert link_kind({"flags": 0x8}) == "loopback"
