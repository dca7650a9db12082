"""Nothing outlives a lab: kill -9 of everything, then `labkit reset`, leaves no trace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit.targets import nsutil
from labkit.targets.cleanup import survey
from labkit.targets.procs import alive, pids_in_netns

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import json, sys, time
from labkit import Lab
lab = Lab()
lab.netns("h1")
lab.run("sh", "-c", "setsid sleep 600 >/dev/null 2>&1 < /dev/null &", ns="h1")  # a daemon, not the agent's child
print(json.dumps({"lab_id": lab.lab_id, "agent": lab.target.agent_pid}), flush=True)
time.sleep(600)
"""


def _ours(lab_id: str) -> list[str]:
    return [n for n in nsutil.list_netns() if n.startswith(f"labkit-{lab_id}-")]


def test_kill_9_of_holder_and_agent_then_reset_leaves_nothing() -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert holder.stdout is not None
    info = json.loads(holder.stdout.readline())
    lab_id, agent = info["lab_id"], info["agent"]
    namespaces = _ours(lab_id)
    assert len(namespaces) == 3
    daemons = [pid for ns in namespaces for pid in pids_in_netns(ns)]
    assert daemons, "the lab has a process running inside it"

    os.kill(agent, signal.SIGKILL)          # the worst case: the agent gets no chance to clean up
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    deadline = time.monotonic() + 5
    while alive(agent) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ours(lab_id), "namespaces are left behind by the crash"
    assert survey()[lab_id].orphaned
    import glob
    import tempfile

    assert glob.glob(f"{tempfile.gettempdir()}/labkit-{lab_id}-*"), "the crashed agent's private directory is left"

    done = subprocess.run([sys.executable, "-m", "labkit.cli", "reset"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert f"removed lab {lab_id}" in done.stdout
    assert _ours(lab_id) == []
    assert not any(alive(pid) for pid in daemons), "every process of the lab was ended"
    assert not glob.glob(f"{tempfile.gettempdir()}/labkit-{lab_id}-*"), "reset left the lab's files in /tmp"


def test_reset_keeps_running_labs() -> None:
    from labkit import Lab

    with Lab(uplink=False) as lab:
        done = subprocess.run([sys.executable, "-m", "labkit.cli", "reset"], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
        assert lab.lab_id not in done.stdout
        assert _ours(lab.lab_id), "a running lab is not an orphan"


def test_notebook_kernel_dying_takes_the_lab_with_it() -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert holder.stdout is not None
    info = json.loads(holder.stdout.readline())
    os.kill(holder.pid, signal.SIGKILL)     # only the holder: the agent sees its pipe close and cleans up
    holder.wait()
    deadline = time.monotonic() + 10
    while (_ours(info["lab_id"]) or alive(info["agent"])) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ours(info["lab_id"]) == [] and not alive(info["agent"])
    subprocess.run([sys.executable, "-m", "labkit.cli", "reset", "--lab", info["lab_id"]], capture_output=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


def test_rootless_lab_in_a_user_namespace() -> None:
    from labkit import Lab
    from labkit.targets.local import _userns_works

    if not _userns_works():
        pytest.skip("rootless mode skipped: unshare --user --map-root-user does not work on this machine")
    with Lab(uplink=True, mode="rootless") as lab:
        lab.veth("veth0", "veth1")
        lab.bridge("br0", stp=True, forward_delay=2)
        lab.enslave("veth1", "br0")
        assert lab.ping("198.51.100.1"), "the whole baseline works inside the user namespace"
        assert lab.snapshot().interface("veth1").master == "br0"
        assert not _ours(lab.lab_id), "rootless namespaces live in the agent's private /run/netns, not the host's"
