"""The guest's fork server (labkit/targets/agent_fork.py): its names and request, and the hand-over
of a session's pipes to a forked process, run here with a small stand-in for the agent's main."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.targets.agent_fork import WARM, decode_request, encode_request, socket_path
from labkit.targets.bundle import BOOTSTRAP, bootstrap_argv
from labkit.targets.vmwarm import warm_argv

#: a fork server whose "agent" echoes its stdin upper-cased, writes its argv to stderr, and exits 7
#: (or waits for a signal when asked to)
SERVER = """
import sys, time
from labkit.targets.agent_fork import serve
def main(argv):
    sys.stderr.write(" ".join(argv) + "\\n"); sys.stderr.flush()
    if argv == ["wait"]:
        time.sleep(60)
    for line in sys.stdin:
        sys.stdout.write(line.upper()); sys.stdout.flush()
    return 7
serve(sys.argv[1], main=main)
"""

#: the bootstrap's side: serve through the server at argv[1] (exit 99 when there is none)
CLIENT = """
import os, sys
from labkit.targets.agent_fork import _through_server
code = _through_server(sys.argv[1], sys.argv[2:])
os._exit(99 if code is None else code)
"""


def test_a_socket_is_named_by_the_bundle_key_only() -> None:
    assert socket_path("0331e78f", "/run/x") == "/run/x/agent-0331e78f.sock"
    for bad in ("", "../etc", "ABC", "k1"):
        with pytest.raises(ValueError):
            socket_path(bad)


def test_the_request_carries_exactly_the_agents_arguments() -> None:
    argv = ["--lab-id", "ab1", "--target", "vagrant", "--allow-host"]
    assert decode_request(encode_request(argv)) == argv
    for bad in (b'{"argv": "x"}', b'{"argv": [1]}', b"{}"):
        with pytest.raises(ValueError):
            decode_request(bad)


def test_the_warm_form_of_the_bootstrap_names_no_lab() -> None:
    argv = warm_argv("python3", "0a1b", "/s")
    assert argv[:2] == ["python3", "-c"] and argv[2] == BOOTSTRAP
    assert argv[3:] == ["labkit.targets.agent", "0a1b", "/s", "fork", WARM]
    assert "--lab-id" not in argv, "labkit reset must not take the warm-up for a lab's agent"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "agent-0a1b.sock")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, path], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(path):
            assert proc.poll() is None and time.monotonic() < deadline, "the fork server did not come up"
            time.sleep(0.05)
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(path: str, *argv: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", CLIENT, path, *argv], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_forked_process_serves_on_the_bootstraps_own_pipes_and_its_status_comes_back(server: str) -> None:
    client = _client(server, "--lab-id", "ab1")
    out, err = client.communicate(b"hello\nworld\n", timeout=30)
    assert out == b"HELLO\nWORLD\n"
    assert err == b"--lab-id ab1\n", "its stderr is the session's stderr, its argv the request's"
    assert client.returncode == 7


def test_a_signal_to_the_bootstrap_reaches_the_forked_process(server: str) -> None:
    client = _client(server, "wait")
    assert client.stderr is not None
    assert client.stderr.readline() == b"wait\n"  # the forked process runs
    client.send_signal(signal.SIGTERM)
    assert client.wait(timeout=10) == 1, "the forked process died of the forwarded SIGTERM, before saying 'exit'"


def test_without_a_server_the_bootstrap_serves_itself(tmp_path: Path) -> None:
    client = _client(str(tmp_path / "agent-none.sock"), "--lab-id", "ab1")
    client.communicate(b"", timeout=30)
    assert client.returncode == 99


def test_only_a_vm_asks_for_the_fork_server() -> None:
    here = bootstrap_argv("python3", "ab1", key="0a1b", store="/s", target="bootstrapped")
    vm = bootstrap_argv("python3", "ab1", key="0a1b", store="/s", target="vagrant", fork_server=True)
    assert here[6] == "here" and vm[6] == "fork"
    assert here[7:9] == vm[7:9] == ["--lab-id", "ab1"]
