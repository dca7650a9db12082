"""Steps on a real kernel: idempotent, atomic, undoable, with clear errors."""

import time

import pytest

from labkit import Lab
from labkit.errors import AlreadyExists, InvalidInput, KernelLacks, NotFound, WrongNamespace
from labkit.steps import Step, ops
from labkit.targets import nsutil


def test_every_interface_has_the_contract_fields(lab: Lab) -> None:
    lab.veth("veth0", "veth1")
    lab.addr("veth0", "20.1.0.10/24")
    lab.bridge("br0", stp=True, forward_delay=2)
    lab.enslave("veth1", "br0")
    snap = lab.snapshot()
    for itf in snap.interfaces:
        for name in ("name", "namespace", "kind", "mac", "mtu", "state", "master", "peer", "addresses", "stp_state"):
            assert hasattr(itf, name)
    veth0 = snap.interface("veth0")
    assert (veth0.kind, veth0.peer, veth0.addresses, veth0.mtu) == ("veth", "main/veth1", ("20.1.0.10/24",), 1500)
    assert snap.interface("veth1").master == "br0" and snap.interface("veth1").stp_state in ("disabled", "listening", "blocking")


def test_running_a_step_twice_changes_nothing_the_second_time(lab: Lab) -> None:
    assert lab.veth("veth0", "veth1").did_change
    assert not lab.veth("veth0", "veth1").did_change
    lab.addr("veth0", "20.1.0.10/24")
    assert not lab.addr("veth0", "20.1.0.10/24").did_change
    lab.bridge("br0")
    lab.enslave("veth0", "br0")
    assert not lab.enslave("veth0", "br0").did_change


def test_a_step_that_fails_halfway_leaves_nothing_behind(lab: Lab) -> None:
    half = Step("veth then enslave into a missing bridge",
                (ops.link_add("main", "x0", "veth", peer="x1", peer_ns="main"), ops.addr_add("main", "x0", "10.5.0.1/24"),
                 ops.link_set("main", "x0", master="nobridge")))
    before = {i.key for i in lab.snapshot().interfaces}
    with pytest.raises(NotFound, match="nobridge") as err:
        lab.apply(half)
    assert "undone" in err.value.hint
    assert {i.key for i in lab.snapshot().interfaces} == before


def test_a_device_kind_the_kernel_lacks_says_use_the_vm_and_undoes_the_rest(lab: Lab) -> None:
    if not lab.missing("vlan"):
        pytest.skip("this kernel has 8021q (VLAN), so there is nothing to refuse")
    lab.veth("veth0", "veth1")
    step = Step("vlan after a veth", (ops.link_add("main", "y0", "veth", peer="y1", peer_ns="main"),
                                      ops.link_add("main", "veth0.10", "vlan", link="veth0", vlan_id=10)))
    with pytest.raises(KernelLacks, match="8021q") as err:
        lab.apply(step)
    assert "Lab.vagrant()" in err.value.hint
    assert lab.snapshot().interface("y0") is None


def test_missing_device_wrong_namespace_and_duplicates_have_hints(lab: Lab) -> None:
    lab.netns("h1")
    lab.veth("v-h1", "eth0", peer_ns="h1")
    with pytest.raises(NotFound, match="'veth9' does not exist") as missing:
        lab.up("veth9")
    assert "v-h1" in missing.value.hint, "the hint lists the devices that are there"
    with pytest.raises(WrongNamespace, match="it is in h1") as wrong:
        lab.addr("eth0", "10.0.0.1/24")
    assert "ns='h1'" in wrong.value.hint
    with pytest.raises(AlreadyExists, match="as a veth device"):
        lab.bridge("v-h1")
    with pytest.raises(NotFound, match="namespace 'h9'"):
        lab.veth("a", "b", peer_ns="h9")


def test_bad_input_never_reaches_the_kernel(lab: Lab) -> None:
    before = len(lab.history)
    with pytest.raises(InvalidInput, match="at most 15"):
        lab.veth("this-name-is-too-long", "b")
    with pytest.raises(InvalidInput, match="CIDR"):
        lab.veth("a", "b") and lab.addr("a", "10.0.0.300/24")
    assert len(lab.history) == before + 1


def test_undo_and_reset(lab: Lab) -> None:
    lab.veth("veth0", "veth1")
    lab.bridge("br0")
    lab.enslave("veth0", "br0")
    lab.undo()
    assert lab.snapshot().interface("veth0").master is None
    lab.undo()
    assert lab.snapshot().interface("br0") is None
    lab.netns("h1")
    lab.reset()
    snap = lab.snapshot()
    assert [ns.name for ns in snap.namespaces] == ["main"] and [i.name for i in snap.interfaces] == ["lo"]
    assert lab.undo() is None


def test_move_a_device_and_undo_brings_it_back_with_its_address(lab: Lab) -> None:
    lab.netns("h1")
    lab.veth("a0", "a1")
    lab.addr("a1", "10.7.0.2/24")
    lab.move("a1", "h1")
    assert lab.snapshot().interface("a1", "h1") is not None
    lab.undo()
    assert lab.snapshot().interface("a1").addresses == ("10.7.0.2/24",)


def test_tun_device_driven_from_python(lab: Lab) -> None:
    from scapy.layers.inet import ICMP, IP

    dev = lab.tun_open("tun0", "tun")
    lab.addr("tun0", "10.0.0.12/24")
    lab.up("tun0")
    pinger = lab.spawn("ping", "-c", "1", "-W", "3", "10.0.0.22")
    request = next(IP(p) for p in dev.read_all(timeout=2) if p[0] >> 4 == 4)
    assert request[ICMP].type == 8 and request.dst == "10.0.0.22"
    dev.write(IP(src=request.dst, dst=request.src) / ICMP(type=0, id=request[ICMP].id, seq=request[ICMP].seq)
              / request[ICMP].payload)
    deadline = time.monotonic() + 5
    while pinger.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "1 received" in pinger.stop()
    assert lab.snapshot().interface("tun0").detail("attached") is True
    dev.close()
    assert lab.snapshot().interface("tun0") is None, "a non-persistent tun dies with its file descriptor"


def test_stp_walks_listening_learning_forwarding_in_forward_delay_steps(lab: Lab) -> None:
    lab.bridge("br0", stp=True, forward_delay=2)
    lab.veth("p0", "p1")
    lab.enslave("p0", "br0")
    lab.up("br0", "p0", "p1")
    result = lab.wait_stp("br0", timeout=15)
    assert result["converged"] and result["states"]["main/p0"] == "forwarding"
    times = {e["state"]: e["t"] for e in result["events"] if e["port"] == "main/p0"}
    assert 1.5 <= times["learning"] - times.get("listening", 0) <= 3.5
    assert 1.5 <= times["forwarding"] - times["learning"] <= 3.5


def test_macvlan_and_vxlan_on_this_kernel(lab: Lab) -> None:
    lab.veth("eth1", "peer1")
    lab.macvlan("mv0", "eth1")
    lab.vxlan("vx0", 42, remote="10.9.0.2", dev="eth1")
    snap = lab.snapshot()
    assert snap.interface("mv0").link == "main/eth1" and snap.interface("vx0").detail("vni") == 42


def test_two_labs_with_the_same_names_do_not_collide(lab: Lab) -> None:
    with Lab(uplink=False) as other:
        lab.veth("veth0", "veth1")
        other.veth("veth0", "veth1")
        assert lab.lab_id != other.lab_id
        assert other.snapshot().interface("veth0") is not None


def test_closing_a_lab_removes_its_namespaces_and_processes() -> None:
    made = Lab()
    made.netns("h1")
    sleeper = made.spawn("sleep", "300", ns="h1")
    ours = [n for n in nsutil.list_netns() if n.startswith(f"labkit-{made.lab_id}-")]
    assert len(ours) == 3
    made.close()
    assert not [n for n in nsutil.list_netns() if n.startswith(f"labkit-{made.lab_id}-")]
    from labkit.targets.procs import alive

    assert not alive(sleeper.pid)
