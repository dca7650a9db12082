"""What every target must do: the contract behind :class:`labkit.targets.agent_client.AgentClient`.

Each ``check_*`` function takes a fresh :class:`~labkit.Lab` (with its uplink) on the target
under test and asserts one promise. The kernel tier runs them against the local root,
rootless and bootstrapped (zip over a pipe, as in the VM) agents; the VM tier against the
Vagrant VM. A new target is done when every check passes on it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from labkit import Lab
from labkit.errors import AlreadyExists, LabkitError, NotFound, StepFailed, TargetError
from labkit.recipes import host_pair
from labkit.targets.agent_api import PROTOCOL_VERSION
from labkit.targets.agent_client import AgentClient


def check_hello_names_the_protocol_and_every_method(lab: Lab) -> None:
    info = lab.target.client.hello()
    assert info["protocol"] == PROTOCOL_VERSION and info["lab_id"] == lab.lab_id
    typed = {name for name in vars(AgentClient) if not name.startswith("_")} - {"hello", "request", "close"}
    assert typed <= set(info["methods"]), f"the agent lacks {sorted(typed - set(info['methods']))}"


def check_steps_are_real_idempotent_and_read_back(lab: Lab) -> None:
    lab.netns("c1")
    first = lab.veth("ca", "cb", peer_ns="c1")
    assert first.did_change and not lab.veth("ca", "cb", peer_ns="c1").did_change
    lab.addr("ca", "10.77.0.1/24")
    lab.addr("cb", "10.77.0.2/24", ns="c1")
    lab.up("ca")
    lab.up("cb", ns="c1")
    snap = lab.snapshot()
    ca = snap.interface("ca")
    assert ca is not None and ca.peer == "c1/cb" and "10.77.0.1/24" in ca.addresses and ca.state == "UP"
    assert lab.run("ping", "-c", "1", "-W", "2", "10.77.0.2", ns="main").ok


def check_a_failing_step_leaves_nothing(lab: Lab) -> None:
    with pytest.raises(LabkitError), lab.batch():
        lab.veth("fa", "fb")
        lab.enslave("fa", "no-such-bridge")
    assert lab.snapshot().interface("fa") is None
    with pytest.raises((AlreadyExists, NotFound, StepFailed)):
        lab.addr("no-such-dev", "10.1.1.1/24")


def check_run_reports_output_status_and_timeout(lab: Lab) -> None:
    done = lab.run("sh", "-c", "echo out; echo err >&2; exit 3")
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    assert lab.run("cat", input="fed\n").stdout == "fed\n"
    slow = lab.run("sleep", "10", timeout=0.5)
    assert slow.returncode == 124 and "timed out" in slow.stderr


def check_a_long_request_blocks_nothing_and_can_be_cancelled(lab: Lab) -> None:
    client = lab.target.client
    background = threading.Thread(target=lambda: client.run("main", ["sleep", "3"], timeout=10))
    background.start()
    time.sleep(0.3)
    started = time.monotonic()
    lab.snapshot()
    lab.bridge("cbr")
    assert time.monotonic() - started < 2.0, "a step waited behind a running command"
    background.join()
    # a duration no other test or lab uses, so `ps` (which sees the whole machine) counts only this one
    unique = f"30.{os.getpid():07d}"
    with pytest.raises(TargetError, match="did not answer"):
        client.connection.call("run", {"ns": "main", "argv": ["sleep", unique], "timeout": 60}, deadline=0.5)
    left = lab.run("sh", "-c", f"ps -eo args | grep -c '^sleep {unique}$'").stdout.strip()
    assert left == "0", "the cancelled command still runs"


def check_background_programs(lab: Lab) -> None:
    prog = lab.spawn("sh", "-c", "echo started; sleep 30", name="srv")
    time.sleep(0.3)
    assert prog.running and "started" in prog.output
    again = lab.spawn("sh", "-c", "echo second; sleep 30", name="srv")
    assert not prog.running and again.running, "the old program of that name still runs"
    with pytest.raises(StepFailed, match="exited at once"):
        lab.spawn("sh", "-c", "echo broken config >&2; exit 2")
    assert "second" in again.stop()


def check_captures_see_the_traffic(lab: Lab) -> None:
    host_pair(lab, "k1", "ka", "kb", "10.78.0")
    with lab.capture("k1/kb", filter="icmp") as cap:
        assert lab.run("ping", "-c", "2", "-i", "0.2", "10.78.0.2").ok
    assert cap.counts()["k1/kb"] == 4  # two requests, two replies


def check_stp_wait_converges(lab: Lab) -> None:
    lab.bridge("sbr", stp=True, forward_delay=2)
    lab.veth("sa", "sb")
    lab.enslave("sa", "sbr")
    lab.up("sbr", "sa", "sb")
    result = lab.wait_stp("sbr", timeout=20)
    assert result["converged"] and result["states"]["main/sa"] == "forwarding"


def check_wipe_keeps_serving(lab: Lab) -> None:
    lab.netns("w1")
    lab.reset()
    snap = lab.snapshot()
    assert "w1" not in snap.namespaces and snap.interface("eth0") is not None
    assert lab.run("true").ok


CONTRACT: list[Callable[[Lab], None]] = [
    check_hello_names_the_protocol_and_every_method,
    check_steps_are_real_idempotent_and_read_back,
    check_a_failing_step_leaves_nothing,
    check_run_reports_output_status_and_timeout,
    check_a_long_request_blocks_nothing_and_can_be_cancelled,
    check_background_programs,
    check_captures_see_the_traffic,
    check_stp_wait_converges,
    check_wipe_keeps_serving,
]
