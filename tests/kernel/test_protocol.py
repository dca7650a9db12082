"""The agent's wire protocol under real use: ids, deadlines, cancel, bad lines, concurrency."""

from __future__ import annotations

import _thread
import os
import threading
import time

import pytest

from labkit import Lab
from labkit.errors import Interrupted, InvalidInput, TargetError
from labkit.targets.agent_api import PROTOCOL_VERSION

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def lab():
    with Lab(uplink=False) as lab:
        yield lab


def test_hello_says_the_protocol_version(lab: Lab) -> None:
    assert lab.target.client.hello()["protocol"] == PROTOCOL_VERSION


def test_a_bad_line_gets_an_error_reply_and_the_agent_lives(lab: Lab) -> None:
    connection = lab.target.client.connection
    before = connection.stray_replies
    for junk in (b"not json\n", b"[1, 2]\n", b'{"id": 9001}\n', b'"a string"\n', b"\xff\xfe\n"):
        connection._stdin.write(junk)
        connection._stdin.flush()
    assert connection.call("ping") == "pong"
    assert connection.stray_replies == before + 5, "each bad line must get exactly one (error) reply"
    with pytest.raises(InvalidInput, match="bad params"):
        connection.call("snapshot", {"no_such_param": 1})
    with pytest.raises(InvalidInput, match="not an object"):
        connection.call("apply", 5)  # type: ignore[arg-type]
    assert connection.call("ping") == "pong"


def test_replies_are_matched_to_their_requests(lab: Lab) -> None:
    client = lab.target.client
    got: dict[str, object] = {}
    slow = threading.Thread(target=lambda: got.setdefault("slow", client.run("main", ["sh", "-c", "sleep 1; echo slow"])))
    slow.start()
    time.sleep(0.2)
    started = time.monotonic()
    fast = client.run("main", ["echo", "fast"])
    assert fast["stdout"] == "fast\n" and time.monotonic() - started < 0.8, "a short request waited behind a long one"
    slow.join()
    assert got["slow"]["stdout"] == "slow\n"  # type: ignore[index]


def test_a_deadline_gives_up_and_the_next_answer_is_the_right_one(lab: Lab) -> None:
    connection = lab.target.client.connection
    started = time.monotonic()
    with pytest.raises(TargetError, match="did not answer"):
        connection.call("sleep", {"seconds": 20}, deadline=0.5)
    assert time.monotonic() - started < 8
    assert lab.run("echo", "after").stdout == "after\n"


def test_an_interrupt_stops_the_command_and_keeps_the_lab(lab: Lab) -> None:
    lab.veth("pa", "pb")
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    unique = f"30.{os.getpid():07d}"  # `ps` sees the whole machine: count only this test's sleep
    with pytest.raises(Interrupted, match="was stopped") as err:
        lab.run("sleep", unique)
    assert time.monotonic() - started < 5 and "intact" in err.value.hint
    assert lab.run("echo", "next").stdout == "next\n", "the next command got another request's answer"
    assert lab.snapshot().interface("pa") is not None
    busy = lab.run("sh", "-c", f"ps -eo args | grep -c '^sleep {unique}$'").stdout.strip()
    assert busy == "0", "the interrupted command is still running in the lab"


def test_an_interrupted_stp_wait_and_capture_keep_the_lab(lab: Lab) -> None:
    lab.bridge("brw", stp=True, forward_delay=15)
    lab.veth("wa", "wb")
    lab.enslave("wa", "brw")
    lab.up("brw", "wa", "wb")
    threading.Timer(0.6, _thread.interrupt_main).start()
    with pytest.raises(Interrupted):
        lab.wait_stp("brw", timeout=40)
    cap = lab.capture("wb")  # started (every tcpdump listens) before the timer, so the interrupt lands in wait()
    threading.Timer(0.6, _thread.interrupt_main).start()
    with pytest.raises(Interrupted, match="capture"):
        cap.wait(timeout=30)
    assert not cap.running
    assert lab.snapshot().interface("brw") is not None and lab.run("true").ok
