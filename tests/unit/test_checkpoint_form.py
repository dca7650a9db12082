"""Checkpoint files (pure): the normal form drops only what the kernel assigns, the file round-trips,
an edited file is refused, and the lab.run commands a checkpoint cannot stand in for are named."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from labkit.checkpoints.form import LINK_MAC, PORT_MAC, RANDOM_MAC, Checkpoint, RecordedStep, digest, fixed_macs, normal_form
from labkit.checkpoints.runs import changes_kernel, step_for
from labkit.errors import CheckpointError
from labkit.model import FdbEntry, Interface, Namespace, Neighbour, Route, Snapshot
from labkit.steps import bridge, mac, veth
from labkit.steps.base import Step
from labkit.steps.ops import link_add

SHIPPED = Path(__file__).resolve().parents[2] / "notebooks" / "checkpoints"


def snapshot(lab_id: str = "aaaaaa", macs: tuple[str, str, str] = ("aa:00:00:00:00:01", "aa:00:00:00:00:02", "02:00:00:00:00:09"),
             index: int = 2) -> Snapshot:
    port, peer, fixed = macs
    return Snapshot(
        lab_id=lab_id, taken_at=123.0,
        namespaces=(Namespace("main", f"labkit-{lab_id}-main", (("net.ipv4.ip_forward", "0"),)),),
        interfaces=(
            Interface("br0", "main", index + 2, "bridge", port, 1500, "UP", ("UP", "LOWER_UP"),
                      info=(("stp", 1), ("bridge_id", f"8000.{port}"), ("root_id", f"8000.{port}"))),
            Interface("veth0", "main", index, "veth", port, 1500, "UP", ("UP", "LOWER_UP", "PROMISC"), master="br0",
                      peer="main/veth1", stp_state="forwarding", info=(("designated_root", f"8000.{port}"),),
                      stats=(("rx_packets", 5),)),
            Interface("veth1", "main", index + 1, "veth", peer, 1500, "UP", ("UP", "LOWER_UP"), peer="main/veth0",
                      addresses=("20.1.0.11/24",)),
            Interface("vlan5", "main", index + 3, "vlan", peer, 1500, "UP", ("UP",), link="main/veth1"),
            Interface("veth2", "main", index + 4, "veth", fixed, 1500, "DOWN", ()),
        ),
        routes=(Route("main", "20.1.0.0/24", "veth1", src="20.1.0.11", scope="link", proto="kernel"),),
        fdb=(FdbEntry("main", "br0", "veth0", port, permanent=True),),
        neighbours=(Neighbour("main", "veth1", "20.1.0.10", port, "REACHABLE"),),
    )


FIXED = frozenset({"02:00:00:00:00:09"})


def test_the_normal_form_keeps_what_steps_decided_and_drops_what_the_kernel_assigned() -> None:
    form = normal_form(snapshot(), FIXED)
    by_name = {itf.name: itf for itf in form.interfaces}
    assert by_name["br0"].mac == PORT_MAC                      # the bridge took its port's MAC
    assert by_name["veth0"].mac == RANDOM_MAC and by_name["veth1"].mac == RANDOM_MAC
    assert by_name["vlan5"].mac == LINK_MAC                    # a vlan shares its parent's MAC
    assert by_name["veth2"].mac == "02:00:00:00:00:09"         # a MAC a step fixed stays
    assert dict(by_name["br0"].info)["bridge_id"] == "8000.main/br0"   # the bridge owning the MAC, not the MAC
    assert dict(by_name["veth0"].info)["designated_root"] == "8000.main/br0"
    assert "PROMISC" not in by_name["veth0"].flags and by_name["veth0"].stats == () and by_name["veth0"].index == 0
    assert form.fdb == () and form.neighbours == () and form.lab_id == "" and form.namespaces[0].netns == ""
    assert by_name["veth1"].addresses == ("20.1.0.11/24",) and form.routes == snapshot().routes


def test_two_builds_of_one_lab_have_one_digest_and_another_lab_another() -> None:
    again = snapshot(lab_id="bbbbbb", macs=("aa:00:00:00:00:07", "aa:00:00:00:00:08", "02:00:00:00:00:09"), index=40)
    assert digest(normal_form(snapshot(), FIXED)) == digest(normal_form(again, FIXED))
    other = replace(snapshot(), interfaces=tuple(replace(i, mtu=1400) if i.name == "veth1" else i for i in snapshot().interfaces))
    assert digest(normal_form(other, FIXED)) != digest(normal_form(snapshot(), FIXED))
    unpinned = snapshot(macs=("aa:00:00:00:00:01", "aa:00:00:00:00:02", "02:00:00:00:00:0a"))
    assert digest(normal_form(unpinned, FIXED)) != digest(normal_form(snapshot(), FIXED))  # a fixed MAC counts


def test_fixed_macs_are_read_from_the_steps() -> None:
    made = Step("undo of a delete", (link_add("main", "a", "veth", peer="b", address="02:00:00:00:00:01"),))
    steps = (RecordedStep(made), RecordedStep(mac("a", "02:00:00:00:00:02")),
             RecordedStep(bridge("br0")))
    assert fixed_macs(steps) == {"02:00:00:00:00:01", "02:00:00:00:00:02"}


def point() -> Checkpoint:
    steps = (RecordedStep(veth("veth0", "veth1")), RecordedStep(Step("confirmed", veth("x", "y").ops), confirmed=5.0))
    return Checkpoint("step-1", steps, normal_form(snapshot(), FIXED), uplink=False, notebook="04-bridge")


def test_a_checkpoint_file_round_trips_and_reads_as_steps_and_state() -> None:
    text = point().to_json()
    data = json.loads(text)
    assert data["format"] == "labkit-checkpoint" and data["version"] == 1 and data["lab"] == {"uplink": False}
    assert data["steps"][0]["ops"][0]["command"] == "ip link add name veth0 type veth peer name veth1"
    assert data["expected"]["digest"].startswith("sha256:")
    again = Checkpoint.from_json(text)
    assert again == point() and again.steps[1].confirmed == 5.0 and again.digest == point().digest


def test_an_edited_state_is_refused_naming_the_digests() -> None:
    data = json.loads(point().to_json())
    data["expected"]["state"]["interfaces"][2]["mtu"] = 9000
    with pytest.raises(CheckpointError, match="does not match its digest"):
        Checkpoint.from_dict(data, where="x.json")


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d.update(format="other"), "not a labkit checkpoint"),
    (lambda d: d.pop("steps"), "lacks or mangles"),
])
def test_a_file_of_another_version_or_shape_is_refused(edit, words: str) -> None:
    data = json.loads(point().to_json())
    edit(data)
    with pytest.raises(CheckpointError, match=words):
        Checkpoint.from_dict(data)


def test_every_shipped_checkpoint_reads_back_with_its_digest() -> None:
    files = sorted(SHIPPED.glob("*/*.json"))
    assert {p.parent.name for p in files} >= {"04-bridge", "06-stp"}
    for path in files:
        loaded = Checkpoint.load(path)
        assert loaded.notebook == path.parent.name and loaded.name == path.stem and loaded.steps


@pytest.mark.parametrize("argv", [
    ["ip", "link", "set", "veth0", "mtu", "1400"], ["ip", "-n", "h1", "addr", "add", "1.2.3.4/24", "dev", "eth0"],
    ["ip", "route", "del", "default"], ["ip", "netns", "add", "x"], ["bridge", "link", "set", "dev", "p", "cost", "4"],
    ["sysctl", "-w", "net.ipv4.ip_forward=1"], ["sysctl", "net.ipv4.ip_forward=1"], ["nft", "-f", "-"],
    ["nft", "add", "table", "ip", "t"], ["tc", "qdisc", "add", "dev", "x", "root", "netem"], ["ethtool", "-K", "x", "tso", "off"],
    ["iptables", "-A", "FORWARD", "-j", "DROP"], ["env", "A=1", "ip", "link", "del", "x"], ["modprobe", "dummy"],
])
def test_commands_that_change_the_kernel_are_named(argv: list[str]) -> None:
    assert changes_kernel(argv), argv


@pytest.mark.parametrize("argv", [
    ["ping", "-c", "1", "20.1.0.11"], ["ip", "-br", "link", "show"], ["ip", "route"], ["ip", "neigh", "show", "dev", "x"],
    ["ip", "route", "get", "1.2.3.4"], ["ip", "-n", "h1", "addr"], ["bridge", "link"], ["bridge", "fdb", "show"],
    ["sysctl", "-n", "net.ipv4.ip_forward"], ["nft", "list", "table", "ip", "t"], ["ethtool", "-S", "veth0"],
    ["ss", "-uanp"], ["cat", "/proc/net/nf_conntrack"], ["uname", "-r"],
])
def test_commands_that_only_look_are_not(argv: list[str]) -> None:
    assert not changes_kernel(argv), argv


def test_the_hint_names_the_step_to_use() -> None:
    assert "lab.up" in step_for(["ip", "link", "set", "x", "up"]) and "lab.sysctl" in step_for(["sysctl", "-w", "a=1"])


def test_only_the_sysctls_a_step_set_are_part_of_the_state() -> None:
    """A new namespace copies the host's net.ipv4.conf.all values: a checkpoint made on a host with
    all.accept_local=1 must restore on one with 0, and a sysctl the lab set must still count."""
    from labkit.checkpoints.form import set_sysctls
    from labkit.steps import accept_local

    steps = [RecordedStep(accept_local("veth1"))]
    chosen = set_sysctls(steps)
    assert chosen == {("main", "net.ipv4.conf.veth1.accept_local")}

    def with_sysctls(**values: str) -> Snapshot:
        base = snapshot()
        pairs = tuple((f"net.ipv4.conf.{key.replace('_', '.', 1)}", value) for key, value in values.items())
        return replace(base, namespaces=(replace(base.namespaces[0], sysctls=pairs),))

    host_a = with_sysctls(all_accept_local="1", veth1_accept_local="1")
    host_b = with_sysctls(all_accept_local="0", veth1_accept_local="1")
    lab_undone = with_sysctls(all_accept_local="0", veth1_accept_local="0")
    assert digest(normal_form(host_a, FIXED, chosen)) == digest(normal_form(host_b, FIXED, chosen))
    assert digest(normal_form(host_b, FIXED, chosen)) != digest(normal_form(lab_undone, FIXED, chosen))
    assert digest(normal_form(host_a, FIXED)) != digest(normal_form(host_b, FIXED))  # without: the host counts
