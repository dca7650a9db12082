"""The agent as a VM runs it: code sent as a zip over the connection, commit-confirmed changes."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from labkit import Lab, steps
from labkit.errors import StepFailed
from labkit.targets import cleanup, nsutil
from labkit.targets.agent_fork import socket_path
from labkit.targets.bundle import agent_bundle
from labkit.targets.procs import alive, terminate
from tests.contract.targets import SYSTEM_PYTHON, BootstrappedTarget


@pytest.fixture
def remote_lab():
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} (a bare python3, as in the guest) is not installed")
    with Lab(BootstrappedTarget()) as lab:
        yield lab


def test_a_bare_python3_runs_the_agent_from_the_zip(remote_lab: Lab) -> None:
    remote_lab.veth("veth0", "veth1")
    assert remote_lab.snapshot().interface("veth0").peer == "main/veth1"
    assert remote_lab.ping("198.51.100.1")


def test_a_confirmed_change_is_kept(remote_lab: Lab) -> None:
    with remote_lab.confirmed(timeout=3) as change:
        remote_lab.bridge("br0")
        remote_lab.up("br0")
        remote_lab.enslave("eth0", "br0")
        remote_lab.move_ip("eth0", "br0")
    assert change.kept
    assert remote_lab.snapshot().interface("br0").addresses == ("192.168.3.10/24",)
    remote_lab.undo()
    assert remote_lab.snapshot().interface("eth0").addresses == ("192.168.3.10/24",)


def test_an_unconfirmed_change_rolls_itself_back(remote_lab: Lab) -> None:
    from labkit import steps

    ops = [op.to_dict() for op in steps.bridge("br9").ops]
    answer = remote_lab.target.request("apply_confirmed", ops=ops, timeout=1.0)
    assert remote_lab.snapshot().interface("br9") is not None
    time.sleep(1.5)                          # the controller "cannot reach" the target in time
    assert remote_lab.snapshot().interface("br9") is None, "rolled back by the target itself"
    verdict = remote_lab.target.request("confirm", token=answer["token"])
    assert verdict["kept"] is False and 0.9 <= verdict["rolled_back_after"] <= 3


def test_confirmed_raises_when_the_target_rolled_back(remote_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    real = remote_lab.target.client.confirm

    def slow(token: str) -> Any:
        time.sleep(1.5)                      # as if the change had cut our connection for a while
        return real(token)

    monkeypatch.setattr(remote_lab.target.client, "confirm", slow)
    with pytest.raises(StepFailed, match="rolled it back"), remote_lab.confirmed(timeout=1.0):
        remote_lab.bridge("br8")
    assert remote_lab.snapshot().interface("br8") is None


def test_rollback_fires_on_time_while_a_long_request_runs(remote_lab: Lab) -> None:
    """The agent's timer must not wait behind a `run`: the kernel work is never blocked by a wait."""
    import threading

    client = remote_lab.target.client
    answer = client.apply_confirmed([op.to_dict() for op in steps.bridge("br9").ops], timeout=1.0)
    busy = threading.Thread(target=remote_lab.run, args=("sleep", "4"), kwargs={"timeout": 10})
    busy.start()
    time.sleep(1.8)
    assert remote_lab.snapshot().interface("br9") is None, "the rollback waited behind the running request"
    verdict = client.confirm(answer["token"])
    busy.join()
    assert verdict["kept"] is False and verdict["rolled_back_after"] < 1.6


def test_labkit_reset_leaves_a_live_remote_lab_alone(remote_lab: Lab) -> None:
    """In the VM the agent runs from a zip over SSH; `labkit reset` there must see it is alive."""
    import subprocess
    import sys

    from labkit.targets.cleanup import survey

    remote_lab.netns("kept")
    remains = survey()[remote_lab.lab_id]
    assert not remains.orphaned, "a live bootstrapped agent was taken for an orphan"
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "reset"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "kept" in [n.name for n in remote_lab.snapshot().namespaces] and remote_lab.run("true").ok


def _bare_python() -> None:
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} (a bare python3, as in the guest) is not installed")


def test_the_bundle_is_sent_once_then_kept_under_its_key(tmp_path) -> None:
    """As in the VM: the first agent gets the code over its connection, the next one finds it."""
    from labkit.targets.bundle import agent_bundle

    _bare_python()
    store = tmp_path / "store"
    first = BootstrappedTarget(store=str(store))
    try:
        assert first.offered.sent and first.offered.size > 100_000
        assert first.request("snapshot")["target"] == "bootstrapped", "the agent names the target that started it"
    finally:
        first.close()
    second = BootstrappedTarget(store=str(store))
    try:
        assert not second.offered.sent, "the store had the bundle: nothing to send"
        assert second.request("ping") == "pong"
    finally:
        second.close()
    assert sorted(p.name for p in store.iterdir()) == [f"{agent_bundle().key}.zip"]
    assert store.stat().st_mode & 0o777 == 0o700


def test_a_new_bundle_prunes_the_oldest_and_a_shared_store_is_refused(tmp_path) -> None:
    from labkit.errors import TargetError
    from labkit.targets.bundle import KEEP

    _bare_python()
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    for age in range(KEEP + 2):  # older labkit versions, the oldest first
        (store / f"old{age}.zip").write_bytes(b"")
        os.utime(store / f"old{age}.zip", (1_000_000 + age, 1_000_000 + age))
    BootstrappedTarget(store=str(store)).close()
    kept = sorted(p.name for p in store.iterdir())
    assert len(kept) == KEEP and "old0.zip" not in kept and f"old{KEEP + 1}.zip" in kept, kept
    store.chmod(0o777)
    with pytest.raises(TargetError, match="only its owner"):
        BootstrappedTarget(store=str(store))


def test_a_lab_forked_from_the_warm_server_works_and_labkit_reset_ends_it(tmp_path: Path) -> None:
    """The VM's path (labkit/targets/agent_fork.py) on this machine: the first lab runs the agent itself
    and starts the fork server; the next lab's agent is a fork of it (its parent), builds a veth pair,
    and `labkit reset`'s survey finds the lab by its bootstrap, whose end ends the forked agent."""
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"{SYSTEM_PYTHON} (a bare python3, as in the guest) is not installed")
    store = str(tmp_path / "store")
    path = socket_path(agent_bundle().key)
    pidfile = path[:-5] + ".pid"
    try:
        with Lab(BootstrappedTarget(store=store, fork_server=True)) as lab:
            lab.veth("veth0", "veth1")
            assert lab.target.offered.sent, "the store was empty: the code was sent"
        deadline = time.monotonic() + 120
        while not os.path.exists(path):
            assert time.monotonic() < deadline, "the first lab did not start the fork server"
            time.sleep(0.2)
        server = int(Path(pidfile).read_text())
        target = BootstrappedTarget(store=store, fork_server=True)
        with Lab(target) as lab:
            assert not target.offered.sent
            agent = target.request("hello")["pid"]
            assert int(Path(f"/proc/{agent}/stat").read_text().rsplit(")", 1)[1].split()[1]) == server, \
                "the lab's agent is a fork of the warm server"
            lab.veth("veth0", "veth1")
            assert lab.snapshot().interface("veth0").peer == "main/veth1"
            remains = cleanup.survey()[target.lab_id]
            assert remains.agent_pids and not remains.orphaned, "labkit reset sees the lab by its bootstrap"
            cleanup.remove(remains)
            deadline = time.monotonic() + 15
            while alive(agent):
                assert time.monotonic() < deadline, "the forked agent outlived its bootstrap's SIGTERM"
                time.sleep(0.1)
            assert not [n for n in nsutil.list_netns() if n.startswith(f"labkit-{target.lab_id}-")]
    finally:
        try:
            server = int(Path(pidfile).read_text())
            if alive(server):
                terminate([server])
        except (OSError, ValueError):
            pass
        for suffix in (".sock", ".pid", ".log"):
            Path(path[:-5] + suffix).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))  # only if nothing else is in it
