"""Checkpoints on the real kernel: a lab checkpointed, torn down, and restored in a *fresh Python
process* holds the same state (compared with labkit's snapshot diff); a tampered file fails with
the difference named, and leaves nothing behind; what a replay could not redo is refused by name."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import Lab
from labkit.checkpoints.form import Checkpoint, fixed_macs, normal_form
from labkit.errors import CheckpointError
from labkit.model import Snapshot
from labkit.state.diff import diff
from labkit.targets.cleanup import survey

ROOT = Path(__file__).resolve().parents[2]
RESTORE = """
import json, sys
from labkit import Lab
from labkit.checkpoints.form import Checkpoint, fixed_macs, normal_form, set_sysctls
lab = Lab.restore(sys.argv[1])
try:
    raw = lab.snapshot()
    steps = Checkpoint.load(sys.argv[1]).steps
    form = normal_form(raw, fixed_macs(steps), set_sysctls(steps))
    print(json.dumps({"lab_id": lab.lab_id, "raw": raw.to_dict(), "form": form.to_dict()}))
finally:
    lab.close()
"""


def build(lab: Lab) -> None:
    """A lab with a bit of everything a checkpoint must carry: the uplink baseline, namespaces, a veth
    across them, a bridge with a port (it takes the port's MAC), a pinned MAC, sysctls, a route, a move_ip."""
    lab.netns("h1")
    lab.veth("veth-h1", "eth0", peer_ns="h1")
    lab.bridge("br0")
    lab.enslave("veth-h1", "br0")
    lab.mac("eth0", "02:00:00:00:10:01", ns="h1")
    lab.addr("veth-h1", "20.1.0.1/24")
    lab.up("veth-h1", "br0")
    lab.move_ip("veth-h1", "br0")
    lab.addr("eth0", "20.1.0.20/24", ns="h1")
    lab.up("eth0", ns="h1")
    lab.route("default", via="20.1.0.1", ns="h1")
    lab.accept_local("br0")
    lab.mtu("eth0", 1400, ns="h1")
    assert lab.run("ping", "-c", "1", "-W", "2", "20.1.0.1", ns="h1").ok  # a look: recorded, not replayed


def restore_elsewhere(path: Path) -> dict:
    """Lab.restore(path) in a new Python process: its snapshot, raw and in normal form."""
    out = subprocess.run([sys.executable, "-c", RESTORE, str(path)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    if out.returncode != 0:
        raise AssertionError(f"restore in a fresh process failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_checkpoint_restored_in_a_fresh_process_has_the_same_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "step.json"
    with Lab() as lab:
        build(lab)
        point = lab.checkpoint("built", path=str(path))
        original = lab.snapshot()
        first_id = lab.lab_id
    assert first_id not in survey()  # torn down before the restore
    text = path.read_text()
    assert json.loads(text)["not_replayed"][0]["run"][0] == "ping"
    got = restore_elsewhere(path)
    assert got["lab_id"] != first_id
    rebuilt = Snapshot.from_dict(got["raw"])
    fixed = fixed_macs(point.steps)
    delta = diff(normal_form(original, fixed), normal_form(rebuilt, fixed))
    assert delta.empty, delta.lines()
    assert Snapshot.from_dict(got["form"]) == point.state
    # what differs legitimately, and only that: kernel-made MACs and indexes, the namespaces' kernel names
    assert rebuilt.interface("eth0", "h1").mac == "02:00:00:00:10:01"  # the pinned MAC is the same
    assert rebuilt.interface("veth-h1").mac != original.interface("veth-h1").mac  # the kernel's own is not
    assert rebuilt.interface("br0").mac == rebuilt.interface("veth-h1").mac  # but br0 took its port's MAC again
    assert {ns.netns for ns in rebuilt.namespaces}.isdisjoint({ns.netns for ns in original.namespaces})
    assert original.interface("eth0", "h1").mtu == rebuilt.interface("eth0", "h1").mtu == 1400


def tampered(path: Path, tmp_path: Path, edit) -> Path:
    data = json.loads(path.read_text())
    edit(data)
    out = tmp_path / "tampered.json"
    out.write_text(json.dumps(data))
    return out


def test_a_tampered_step_fails_the_restore_naming_the_difference(tmp_path: Path) -> None:
    path = tmp_path / "step.json"
    with Lab(uplink=False) as lab:
        build_small(lab)
        lab.checkpoint("small", path=str(path))

    def edit(data: dict) -> None:  # someone changes an address in the steps, not in the expected state
        for step in data["steps"]:
            for op in step["ops"]:
                if op["action"] == "addr_add":
                    op["args"]["cidr"] = "20.1.0.99/24"

    lab_id = secrets.token_hex(3)
    with pytest.raises(CheckpointError) as err:
        Lab.restore(str(tampered(path, tmp_path, edit)), lab_id=lab_id)
    message = str(err.value)
    assert "differs from the recorded state" in message and "main/veth0" in message
    assert "20.1.0.10/24" in message and "20.1.0.99/24" in message, message
    assert lab_id not in survey()  # the half-checked lab was removed (other labs of this machine may come and go)


def test_an_edited_expected_state_is_refused_before_anything_runs(tmp_path: Path) -> None:
    path = tmp_path / "step.json"
    with Lab(uplink=False) as lab:
        build_small(lab)
        lab.checkpoint("small", path=str(path))
    edited = tampered(path, tmp_path, lambda d: d["expected"]["state"]["interfaces"][0].update(mtu=9000))
    with pytest.raises(CheckpointError, match="does not match its digest"):
        Lab.restore(str(edited))


def build_small(lab: Lab) -> None:
    lab.veth("veth0", "veth1")
    lab.addr("veth0", "20.1.0.10/24")
    lab.up("veth0", "veth1")


def test_a_change_made_outside_a_step_is_refused_by_name(lab: Lab) -> None:
    build_small(lab)
    lab.run("ip", "link", "set", "veth1", "mtu", "1400", check=True)
    with pytest.raises(CheckpointError) as err:
        lab.checkpoint("x")
    assert "lab.run('ip', 'link', 'set', 'veth1', 'mtu', '1400', ns='main') after step 3" in str(err.value)
    assert "lab.up/down/mtu" in str(err.value)


def test_a_running_background_program_is_refused_until_stopped(lab: Lab) -> None:
    build_small(lab)
    program = lab.spawn("sleep", "30")
    with pytest.raises(CheckpointError, match=r"'sleep 30' .* still runs"):
        lab.checkpoint("x")
    program.stop()
    assert isinstance(lab.checkpoint("x"), Checkpoint)


def test_undone_steps_are_not_replayed(lab: Lab, tmp_path: Path) -> None:
    build_small(lab)
    lab.bridge("br9")
    lab.run("ip", "link", "set", "br9", "mtu", "1400", check=True)  # outside a step, but on what the undo removes
    lab.undo()
    point = lab.checkpoint("after-undo")  # so it does not stand in the way
    assert [s.step.title for s in point.steps][-1] == "Bring up veth0, veth1"
    assert not any("br9" in run.argv for run in point.not_replayed)
    again = Lab.restore(point)
    try:
        assert again.snapshot().interface("br9") is None
    finally:
        again.close()
