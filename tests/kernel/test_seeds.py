"""The seed experiments, reproduced with the API, giving the kernel's real behaviour."""

import pytest

from labkit import Lab
from labkit.errors import InvalidInput
from labkit.recipes import host_pair, seed000_pair


def test_same_namespace_veth_ping_needs_accept_local_and_the_reply_comes_back_on_lo(lab: Lab) -> None:
    seed000_pair(lab)
    for dev in ("veth0", "veth1"):
        lab.accept_local(dev)
        lab.rp_filter(dev, 0)
    lab.sysctl("net.ipv4.conf.all.rp_filter", 0)
    before = lab.snapshot()
    result = lab.run("ping", "-c", "2", "-W", "1", "-I", "veth0", "20.1.0.11")
    assert result.returncode == 0, result.stdout + result.stderr
    after = lab.snapshot()

    def grew(name: str, counter: str) -> int:
        return after.interface(name).counter(counter) - before.interface(name).counter(counter)

    assert grew("veth1", "rx_packets") >= 2, "the echo requests arrive on veth1"
    assert grew("lo", "rx_packets") >= 2, "the echo replies come back through lo"
    # (veth0 does receive veth1's ARP reply and IPv6 noise; the capture tests check that no ICMP reply is among them)


def test_same_namespace_veth_ping_fails_without_accept_local(lab: Lab) -> None:
    seed000_pair(lab)
    assert lab.snapshot().namespace("main").sysctl("net.ipv4.conf.veth1.accept_local") == "0"
    assert not lab.ping("20.1.0.11", iface="veth0", timeout=1)


def test_a_bridge_port_swallows_the_reply_until_the_ip_moves_to_the_bridge(lab: Lab) -> None:
    seed000_pair(lab)
    lab.bridge("br0")
    lab.enslave("veth0", "br0")
    lab.up("br0")
    lab.neigh_flush()
    assert not lab.ping("20.1.0.11", iface="veth0", timeout=1), "ARP replies go to br0, not to the stack via veth0"
    lab.move_ip("veth0", "br0")
    lab.accept_local("br0")
    lab.accept_local("veth1")  # veth1 receives a packet from 20.1.0.10, an address of its own namespace
    snap = lab.snapshot()
    assert snap.interface("br0").addresses == ("20.1.0.10/24",) and snap.interface("veth0").addresses == ()
    assert snap.interface("br0").mac == snap.interface("veth0").mac, "br0 takes veth0's MAC"
    assert snap.interface("veth0").master == "br0" and snap.interface("veth0").stp_state == "forwarding"
    assert lab.ping("20.1.0.11", iface="br0")


def test_enslaving_eth0_the_wrong_way_cuts_the_host_off_and_the_right_way_keeps_it(uplink_lab: Lab) -> None:
    lab = uplink_lab
    far = "198.51.100.1"
    assert lab.ping(far), "the simulated uplink works before we start"
    lab.bridge("br0")
    lab.up("br0")
    lab.enslave("eth0", "br0")          # wrong: the address and the default route stay on a bridge port
    lab.neigh_flush()
    assert not lab.ping(far, timeout=1)
    lab.undo()                          # back out, then the right way: move IP and routes with the port
    lab.neigh_flush()
    assert lab.ping(far)
    lab.enslave("eth0", "br0")
    change = lab.move_ip("eth0", "br0")
    assert "ip route add default via 192.168.3.1 dev br0" in change.commands
    assert lab.ping(far)
    default = [r for r in lab.snapshot().routes if r.namespace == "main" and r.dst == "default"]
    assert [r.dev for r in default] == ["br0"]


def test_routes_cannot_follow_an_address_to_a_device_that_is_down(uplink_lab: Lab) -> None:
    uplink_lab.bridge("br0")
    with pytest.raises(InvalidInput, match="'br0' is down") as err:
        uplink_lab.move_ip("eth0", "br0")
    assert "lab.up('br0')" in err.value.hint
    assert uplink_lab.snapshot().interface("eth0").addresses == ("192.168.3.10/24",), "nothing moved"


def test_veth_across_namespaces_the_right_way(lab: Lab) -> None:
    host_pair(lab, "h1", "v-h1", "eth0", "10.1.0")
    assert lab.ping("10.1.0.1", ns="h1")
    snap = lab.snapshot()
    assert snap.interface("eth0", "h1").peer == "main/v-h1"
    peer_index = lab.run("ethtool", "-S", "v-h1").stdout
    assert f"peer_ifindex: {snap.interface('eth0', 'h1').index}" in peer_index
