"""labkit.startcheck: which kinds each notebook makes, read from its source, and the verdict lines."""

from __future__ import annotations

from pathlib import Path

from labkit.startcheck import LabNeeds, needs_of, notebook_needs, users_note, verdicts, why_no_modules

ROOT = Path(__file__).resolve().parents[2]


def test_the_kinds_a_source_makes() -> None:
    source = ('lab.veth("a", "b")\nlab.tun_open("t0")\nlab.bridge("br0")\nlab.tuntap("tap0", mode="tap")\nlab.device("i0", "ifb")\n'
              'other.vlan("x")\nif requires(lab, kinds=["geneve", "sit"]):\n    pass\nrequires(lab, target="vagrant")\n')
    need = needs_of("99-x", source)
    assert need.kinds == {"veth", "tun", "bridge", "tap", "ifb", "geneve", "sit"} and need.vm_only


def test_the_real_notebooks() -> None:
    needs = {need.lab: need for need in notebook_needs(ROOT / "notebooks" / "src")}
    assert {"bridge", "veth"} <= needs["06-stp"].kinds and not needs["06-stp"].vm_only
    assert {"vlan", "ipvlan", "geneve", "ipip", "gre", "sit"} <= needs["11-full-kernel"].kinds
    assert "tun" in needs["01-tun-tap"].kinds and needs["12-vm-real-eth0"].vm_only


def test_verdicts_name_the_module_and_why_it_cannot_be_loaded() -> None:
    needs = [LabNeeds("04-bridge", frozenset({"veth", "bridge"})), LabNeeds("11-full-kernel", frozenset({"vlan", "veth"}))]
    lines = verdicts(needs, {"veth": True, "bridge": True, "vlan": False}, "no CAP_SYS_MODULE, as a learner's server should be")
    assert lines[0].split() == ["runs", "04-bridge"]
    assert lines[1].split()[:2] == ["skips", "11-full-kernel:"] and "make vlan" in lines[1] and "modprobe 8021q" in lines[1]
    assert "CAP_SYS_MODULE" in lines[1]


def test_why_no_modules(tmp_path: Path) -> None:
    no_caps = "Name:\tx\nCapEff:\t0000000000200000\n"
    all_caps = "Name:\tx\nCapEff:\t000001ffffffffff\n"
    assert "CAP_SYS_MODULE" in why_no_modules(no_caps, str(tmp_path))
    assert "no loadable modules" in why_no_modules(all_caps, str(tmp_path / "absent"))
    assert why_no_modules(all_caps, str(tmp_path)) == ""


def test_users_note_tells_a_user_namespace_from_the_machines_own() -> None:
    assert "shares the machine's user ids" in users_note("         0          0 4294967295\n")
    assert "of its own" in users_note("         0  123456789      65536\n")
