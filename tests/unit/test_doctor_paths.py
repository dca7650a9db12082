"""``labkit doctor``'s decisions on made-up facts: which path labs take and why, and for each
missing piece of a classroom path, the exact command that fixes it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from labkit.doctor_paths import Facts, choose, lab_kinds, module_findings, skipped_labs, target_findings, tun_findings, userns_findings

LEARNER = Facts(euid=1000, user="ana", userns_ok=True, max_user_namespaces=30000, unprivileged_userns_clone="1")
KINDS = {"veth": True, "bridge": True, "vlan": False, "ipvlan": False, "vxlan": True}
MODULES = {"veth": "veth", "bridge": "bridge", "vlan": "8021q", "ipvlan": "ipvlan", "vxlan": "vxlan"}


@pytest.mark.parametrize("facts, path, why", [
    (replace(LEARNER, euid=0), "root", "euid 0"),
    (replace(LEARNER, sudo_ok=True), "sudo", "sudo -n true"),
    (LEARNER, "rootless", "user namespaces work"),
    (replace(LEARNER, target="vagrant", euid=0), "vm", "LABKIT_TARGET=vagrant"),
    (replace(LEARNER, requested_mode="rootless", euid=0), "rootless", "LABKIT_MODE=rootless"),
    (replace(LEARNER, userns_ok=False), None, "cannot make user namespaces"),
])
def test_the_path_and_why_in_labkits_order(facts: Facts, path: str | None, why: str) -> None:
    chosen, reason = choose(facts)
    assert chosen == path and why in reason
    line = target_findings(facts)[0]
    assert line.ok == (path is not None) and why in line.what


def fix_of(findings: list, words: str) -> str:
    """The fix of the one finding whose text has ``words`` (and which is not ok)."""
    found = [f for f in findings if words in f.what and not f.ok]
    assert len(found) == 1, [f.line() for f in findings]
    return found[0].fix


def test_userns_clone_off_gives_its_sysctl_and_makes_it_stick() -> None:
    facts = replace(LEARNER, userns_ok=False, unprivileged_userns_clone="0")
    fix = fix_of(userns_findings(facts), "kernel.unprivileged_userns_clone = 0")
    assert fix.startswith("sudo sysctl -w kernel.unprivileged_userns_clone=1") and "/etc/sysctl.d/" in fix
    assert "sudo sysctl -w kernel.unprivileged_userns_clone=1" in target_findings(facts)[0].fix


def test_max_user_namespaces_zero_gives_a_number_to_set() -> None:
    facts = replace(LEARNER, userns_ok=False, max_user_namespaces=0)
    assert fix_of(userns_findings(facts), "user.max_user_namespaces = 0").startswith("sudo sysctl -w user.max_user_namespaces=10000")


def test_apparmor_restriction_is_shown_only_where_the_knob_exists() -> None:
    facts = replace(LEARNER, userns_ok=False, apparmor_restrict="1")
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in fix_of(userns_findings(facts), "AppArmor forbids")
    assert not any("apparmor" in f.what for f in userns_findings(LEARNER))


def test_a_container_that_blocks_unshare_says_how_to_start_it() -> None:
    facts = replace(LEARNER, userns_ok=False, in_container=True, userns_error="unshare: unshare failed: Operation not permitted")
    fix = fix_of(userns_findings(facts), "Operation not permitted")
    assert "seccomp=unconfined" in fix and "hostUsers: false" in fix


def test_with_no_path_every_way_out_is_offered() -> None:
    facts = replace(LEARNER, userns_ok=False, unprivileged_userns_clone="0")
    fix = target_findings(facts)[0].fix
    assert "kernel.unprivileged_userns_clone=1" in fix and "NOPASSWD" in fix and "/etc/sudoers.d/labkit-ana" in fix
    assert "LABKIT_TARGET=vagrant" in fix and "apt-get install vagrant" in fix


def test_user_namespaces_are_required_only_when_labs_need_them() -> None:
    broken = replace(LEARNER, userns_ok=False, unprivileged_userns_clone="0")
    assert all(f.required for f in userns_findings(broken) if not f.ok)
    as_root = replace(broken, euid=0, user="root")
    assert not any(f.required for f in userns_findings(as_root) if not f.ok)   # shown for the learners, not required


def test_tun_missing_unusable_or_fine() -> None:
    assert fix_of(tun_findings(replace(LEARNER, tun_exists=False)), "missing") .startswith("sudo modprobe tun")
    assert "--device /dev/net/tun" in fix_of(tun_findings(replace(LEARNER, tun_exists=False, in_container=True)), "missing")
    unusable = replace(LEARNER, tun_usable=False, tun_mode="crw-------")
    assert fix_of(tun_findings(unusable), "cannot be opened") == "sudo chmod 0666 /dev/net/tun   # Debian's own mode"
    assert tun_findings(LEARNER)[0].ok and "01, 02, 07" in tun_findings(LEARNER)[0].what


def test_a_missing_module_names_the_labs_that_skip_and_the_fix_that_fits() -> None:
    facts = replace(LEARNER, kinds=KINDS, modules=MODULES, lab_kinds={"11": ("ipvlan", "vlan"), "04": ("veth", "bridge")},
                    module_files=frozenset({"8021q", "veth", "bridge"}))
    found = module_findings(facts)
    assert fix_of(found, "vlan devices (module 8021q)").startswith("sudo modprobe 8021q")
    assert "no ipvlan module" in fix_of(found, "ipvlan devices") and "LABKIT_TARGET=vagrant" in fix_of(found, "ipvlan devices")
    assert "lab 11 will skip" in next(f.what for f in found if "ipvlan" in f.what)
    assert not any(f.required for f in found if not f.ok)
    in_pod = replace(facts, in_container=True)
    assert fix_of(module_findings(in_pod), "8021q").startswith("containers cannot load modules: on the host, sudo modprobe 8021q")
    no_tree = replace(facts, module_files=None)
    assert "loads no modules" in fix_of(module_findings(no_tree), "8021q")
    no_bridge = replace(facts, kinds={**KINDS, "bridge": False})
    assert next(f for f in module_findings(no_bridge) if "bridge" in f.what).required


def test_the_summary_lists_the_labs_that_skip() -> None:
    facts = replace(LEARNER, kinds=KINDS, lab_kinds={"11": ("ipvlan", "vlan"), "10": ("vxlan",)}, tun_usable=False)
    summary = skipped_labs(facts).what
    assert "11: no ipvlan, vlan" in summary and "12: needs the VM target" in summary and "01: no usable /dev/net/tun" in summary
    assert "10" not in summary
    assert "12" not in skipped_labs(replace(LEARNER, target="vagrant")).what


def test_lab_kinds_are_read_from_the_notebook_sources() -> None:
    sources = {"10": 'lab.macvlan("m0", "eth0")\nlab.vxlan("vx0", 42)', "11": 'requires(lab, kinds=["geneve", "ipip"], why="x")',
               "00": "lab.veth('a', 'b')"}
    assert lab_kinds(sources, ("veth", "macvlan", "vxlan", "geneve", "ipip", "gre")) == {
        "10": ("macvlan", "vxlan"), "11": ("geneve", "ipip"), "00": ("veth",)}
