"""bench/learners.verify: each rule that says a class failed, seen to fire on a result that breaks it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.learners import EXPECTED_BRIDGE_COUNTS, verify


def learner(name: str, uid: int, ids: tuple[str, str], macs: tuple[str, str]) -> dict[str, Any]:
    bridge_id, stp_id = ids
    return {
        "name": name, "uid": uid, "ok": True, "mode": "rootless", "ping_br0": True, "ping_h1": True,
        "bridge_counts": dict(EXPECTED_BRIDGE_COUNTS), "bridge_capture_macs": [macs[0]],
        "stp_converged": True, "stp_root": "sw1/br0",
        "labs": {"bridge": {"agent_pid": uid * 10, "lab_id": bridge_id, "macs": [macs[0]], "interfaces": ["main/br0"],
                            "run_netns": [f"labkit-{bridge_id}-main", f"labkit-{bridge_id}-h1"]},
                 "stp": {"agent_pid": uid * 10 + 1, "lab_id": stp_id, "macs": [macs[1]], "interfaces": ["sw1/br0"],
                         "run_netns": [f"labkit-{stp_id}-sw1"]}},
        "others_netns": {"99": "PermissionError"}, "together_counts": {"main/veth1": 6, "sw3/to-sw2": 1}, "together_ping": True,
        "together_macs": [macs[0], macs[1]], "ip_netns": ["labkit-somebodyelse-main"],
    }


CLASS = [learner("a", 1001, ("aaaaaa", "aaaaab"), ("02:00:00:00:00:01", "02:00:00:00:00:02")),
         learner("b", 1002, ("bbbbbb", "bbbbbc"), ("02:00:00:00:00:03", "02:00:00:00:00:04"))]


def broken(change: Any) -> list[str]:
    results = copy.deepcopy(CLASS)
    change(results)
    return verify(results)


def test_a_good_class_passes() -> None:
    assert verify(copy.deepcopy(CLASS)) == []


@pytest.mark.parametrize(("what", "change"), [
    ("CheckFailed", lambda r: r[0].update(ok=False, error="CheckFailed: h1 cannot reach 20.1.0.10")),
    ("rootless", lambda r: r[0].update(uid=0)),
    ("ping failed", lambda r: r[1].update(ping_h1=False)),
    ("capture counts", lambda r: r[0]["bridge_counts"].update({"main/veth1": 5})),
    ("STP", lambda r: r[0].update(stp_root="sw2/br0")),
    ("whole class running", lambda r: r[1]["together_counts"].update({"main/veth1": 7})),
    ("whole class running", lambda r: r[1].update(together_ping=False)),
    ("not its own", lambda r: r[0]["together_macs"].append("02:00:00:00:00:03")),
    ("could open", lambda r: r[0]["others_netns"].update({"98": "opened"})),
    ("other labs", lambda r: r[0]["labs"]["bridge"]["run_netns"].append("labkit-bbbbbb-main")),
    ("ip netns", lambda r: r[1]["ip_netns"].append("labkit-aaaaaa-h1")),
    ("both see", lambda r: r[1]["labs"]["stp"]["macs"].append("02:00:00:00:00:01")),
    ("same lab id", lambda r: r[1]["labs"]["stp"].update(lab_id="aaaaaa")),
])
def test_each_rule_fires(what: str, change: Any) -> None:
    failures = broken(change)
    assert any(what in failure for failure in failures), failures
