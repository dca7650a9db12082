"""Steps are pure plans: their commands are what a learner would type."""

import pytest

from labkit import steps
from labkit.errors import InvalidInput
from labkit.steps import Op


def test_veth_in_one_namespace_and_across() -> None:
    assert steps.veth("veth0", "veth1").commands == ["ip link add name veth0 type veth peer name veth1"]
    assert steps.veth("v-h1", "eth0", peer_ns="h1").commands == ["ip link add name v-h1 type veth peer name eth0 netns h1"]
    assert steps.veth("a", "b", ns="h2").commands == ["ip -n h2 link add name a type veth peer name b"]


def test_bridge_with_stp_shows_centiseconds() -> None:
    step = steps.bridge("br0", stp=True, forward_delay=2, priority=4096)
    assert step.commands == ["ip link add name br0 type bridge stp_state 1 forward_delay 200 priority 4096"]
    assert step.ops[0].args == {"name": "br0", "kind": "bridge", "stp": True, "forward_delay": 2.0, "priority": 4096}


def test_bridge_refuses_a_forward_delay_below_the_kernel_minimum() -> None:
    with pytest.raises(InvalidInput, match="forward_delay"):
        steps.bridge("br0", stp=True, forward_delay=1)


def test_enslave_release_addr_route_sysctl() -> None:
    assert steps.enslave("veth0", "br0").commands == ["ip link set dev veth0 master br0"]
    assert steps.release("veth0").commands == ["ip link set dev veth0 nomaster"]
    assert steps.addr("veth0", "20.1.0.10/24").commands == ["ip addr add 20.1.0.10/24 dev veth0"]
    assert steps.route("default", via="192.168.3.1", ns="h1").commands == ["ip -n h1 route add default via 192.168.3.1"]
    assert steps.rp_filter("veth0", 0).commands == ["sysctl -w net.ipv4.conf.veth0.rp_filter=0"]
    assert steps.ip_forward(ns="r1").commands == ["ip netns exec r1 sysctl -w net.ipv4.ip_forward=1"]
    assert steps.up("a", "b").commands == ["ip link set dev a up", "ip link set dev b up"]


def test_devices_on_a_parent_and_overlays() -> None:
    assert steps.macvlan("mv0", "eth0").commands == ["ip link add link eth0 name mv0 type macvlan mode bridge"]
    assert steps.vlan("eth0.10", "eth0", 10).commands == ["ip link add link eth0 name eth0.10 type vlan protocol 802.1Q id 10"]
    assert steps.vxlan("vx0", 42, remote="10.0.0.2", dev="eth0").commands == [
        "ip link add name vx0 type vxlan id 42 remote 10.0.0.2 dev eth0 dstport 4789"]
    assert steps.tunnel("t0", "gre", "10.0.0.1", "10.0.0.2").commands == [
        "ip link add name t0 type gre local 10.0.0.1 remote 10.0.0.2 ttl 64"]
    assert steps.tuntap("tap0", "tap").commands == ["ip tuntap add dev tap0 mode tap"]


@pytest.mark.parametrize("make", [
    lambda: steps.veth("veth0", "veth0"),
    lambda: steps.move_ip("br0", "br0"),
    lambda: steps.route("10.0.0.0/24"),
    lambda: steps.sysctl("kernel.panic", 1),
    lambda: steps.tuntap("t0", "tunnel"),
    lambda: steps.vlan("v", "eth0", 5000),
    lambda: steps.vxlan("vx", 1, remote="10.0.0.1", group="239.1.1.1"),
    lambda: steps.tunnel("t", "ipip", "fd00::1", "10.0.0.1"),
    lambda: steps.enslave("br0", "br0"),
    lambda: steps.port("veth0"),
    lambda: steps.veth("a-name-that-is-too-long", "b"),
])
def test_bad_input_is_refused_before_anything_runs(make) -> None:
    with pytest.raises(InvalidInput) as err:
        make()
    assert err.value.hint, "every error says what to do next"


def test_ops_survive_the_pipe() -> None:
    op = steps.veth("a", "b", peer_ns="h1").ops[0]
    assert Op.from_dict(op.to_dict()) == op


def test_masquerade_writes_its_own_nft_table() -> None:
    step = steps.masquerade("172.17.0.0/16", "eth0")
    script = step.ops[0].args["script"]
    assert "table ip labkit_nat" in script and 'ip saddr 172.17.0.0/16 oifname "eth0" counter masquerade' in script
