"""A warm agent in the guest: one process that has imported the agent once, and forks a lab's agent.

Under emulation (QEMU TCG) importing the agent (labkit + pyroute2 + asyncio) costs 2.5-5 s of
the guest's CPU each time, more than the rest of a lab's start together. So the guest keeps one
*fork server* per bundle (``python3 -c SERVE STORE/KEY.zip SOCKET``, root, its own session): it
imports the agent, then listens on :func:`socket_path` (in a root-only folder). A lab's bootstrap
(:data:`labkit.targets.bundle.BOOTSTRAP`, run by ``sudo`` over ssh) then calls :func:`run`:

* with a server for its bundle: it hands over its own stdin, stdout and stderr (the ssh session's
  pipes, as file descriptors over the unix socket: ``SCM_RIGHTS``) with the agent's arguments; the
  server forks, and the child *is* the lab's agent on those pipes, already imported (a fork costs
  milliseconds). The bootstrap stays until that agent ends, passes on SIGTERM/SIGHUP (``labkit
  reset`` finds the lab by the bootstrap's command line) and exits with the agent's status;
* with no server (the VM was just booted and nobody warmed it, or the bundle is new): it runs the
  agent itself, as before, and starts the server for the next lab. Slower, never wrong.

``--warm`` in place of the agent's arguments only makes sure the server runs and is ready: the
Vagrantfile's after-up trigger does this (:mod:`.vmwarm`), so a learner's first lab is warm.

Only the standard library is imported here before the agent: the bootstrap uses this module
before it knows whether it will need the agent at all.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import NoReturn

from .process_exit import flush_streams

RUN_DIR = "/run/labkit"  # root's, mode 0700: the servers' sockets and pid files
WARM = "--warm"
READY_WAIT = 120.0  # seconds ``--warm`` waits for a new server to import the agent (slow under emulation)

#: ``python3 -c SERVE STORE/KEY.zip SOCKET``: the fork server's command line (no ``--lab-id``: it is no lab)
SERVE = "import sys; sys.path.insert(0, sys.argv[1]); from labkit.targets.agent_fork import serve; serve(sys.argv[2])"


def socket_path(key: str, run_dir: str = RUN_DIR) -> str:
    """Where the fork server of the bundle ``key`` listens."""
    if not key or not all(c in "0123456789abcdef" for c in key):
        raise ValueError(f"a bundle key is lower-case hex, not {key!r}")
    return os.path.join(run_dir, f"agent-{key}.sock")


def encode_request(argv: list[str]) -> bytes:
    """The one message a bootstrap sends with its three file descriptors: the agent's arguments."""
    return json.dumps({"argv": argv}).encode() + b"\n"


def decode_request(data: bytes) -> list[str]:
    """The agent's arguments from :func:`encode_request`'s bytes (``ValueError`` when malformed)."""
    argv = json.loads(data.decode()).get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ValueError(f"not an agent request: {data[:80]!r}")
    return argv


# -- the bootstrap's side ------------------------------------------------------------------
def run(home: str, key: str, argv: list[str], fork: bool) -> int:
    """Serve one lab: with ``fork``, from the warm server of ``key`` if there is one, else here (and
    start that server for the next lab); without, here and nothing else (a machine that is not a
    disposable VM keeps no server)."""
    path = socket_path(key)
    if fork and argv == [WARM]:
        return 0 if _ensure_server(home, path, wait=READY_WAIT) else 1
    if fork:
        code = _through_server(path, argv)
        if code is not None:
            return code
        _ensure_server(home, path, wait=0.0)  # for the next lab; this one runs here, as before
    from labkit.targets.agent import main

    return main(argv)


def _through_server(path: str, argv: list[str]) -> int | None:
    """Hand this process's stdin/stdout/stderr to the server; wait for that agent. None: no server.

    SIGTERM/SIGHUP/SIGINT are caught from the start: one that comes before the agent's pid is
    known is passed on as soon as it is (or, with no server, raised again here)."""
    pending: list[int] = []
    agent: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not agent:
            pending.append(signum)
            return
        try:
            os.kill(agent[0], signum)
        except ProcessLookupError:
            pass

    signals = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {sig: signal.signal(sig, forward) for sig in signals}
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    reply = conn.makefile("rb")
    try:
        conn.connect(path)
        socket.send_fds(conn, [encode_request(argv)], [0, 1, 2])
        line = reply.readline()  # "pid N" once forked
    except OSError:
        line = b""
    if not line.startswith(b"pid "):
        conn.close()
        for sig, handler in before.items():
            signal.signal(sig, handler)
        for signum in pending:
            os.kill(os.getpid(), signum)
        return None
    agent.append(int(line.split()[1]))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the agent holds the session's pipes now; the bootstrap only waits
        os.dup2(null, fd)
    os.close(null)
    for signum in pending:
        forward(signum, None)
    end = reply.readline()  # "exit N" when the agent ends, or EOF if it died of a signal
    return int(end.split()[1]) if end.startswith(b"exit ") else 1


def _ensure_server(home: str, path: str, wait: float) -> bool:
    """Start the fork server for ``home`` unless one answers at ``path``; wait up to ``wait`` s for it."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    if _answers(path):
        return True
    pidfile = path[:-5] + ".pid"
    try:
        with open(pidfile) as fh:
            starting = _is_server(int(fh.read().strip() or 0))
    except (OSError, ValueError):
        starting = False
    if not starting:
        with open(path[:-5] + ".log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-c", SERVE, home, path], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=log, start_new_session=True, close_fds=True)
        with open(pidfile, "w") as fh:
            fh.write(f"{proc.pid}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _answers(path):
            return True
        time.sleep(0.1)
    return wait == 0.0


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a running fork server (its command line names this module)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"labkit.targets.agent_fork import serve" in fh.read()
    except OSError:
        return False


# -- the server's side ---------------------------------------------------------------------
def serve(path: str, main: Callable[[list[str]], int] | None = None) -> None:
    """Import the agent, listen at ``path`` (made ready atomically), fork one agent per request.

    ``main`` (the agent's, by default) is what each forked child runs on the handed-over pipes."""
    if main is None:
        from labkit.targets import agent

        def main(argv: list[str]) -> int:
            return agent.main(argv, parent_death=False)  # the server may go before its labs

    _stop_other_servers(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    part = f"{path}.{os.getpid()}"
    listener.bind(part)
    os.chmod(part, 0o600)
    listener.listen(16)
    os.replace(part, path)  # a client connects only once the imports are done
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked agents are reaped by the kernel
    while True:
        conn, _ = listener.accept()
        try:
            data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
            argv = decode_request(data)
            if len(fds) != 3:
                raise ValueError("three file descriptors expected")
        except (OSError, ValueError):
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            _child(conn, fds, main, argv)
        for fd in fds:
            os.close(fd)
        conn.close()


def _child(conn: socket.socket, fds: list[int], main: Callable[[list[str]], int], argv: list[str]) -> NoReturn:
    """The forked agent: its own session, the bootstrap's pipes as its stdin/stdout/stderr."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the agent waits for its own children
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    code = 1
    try:
        conn.sendall(f"pid {os.getpid()}\n".encode())
        code = main(argv)
    finally:
        flush_streams()  # before the bootstrap hears "exit": the learner's last lines are on the pipe first
        try:
            conn.sendall(f"exit {code}\n".encode())
        except OSError:
            pass
        os._exit(code)


def _stop_other_servers(path: str) -> None:
    """Stop the servers of older bundles (their pid files beside ``path``), by pid, if they are servers."""
    folder, mine = os.path.dirname(path), os.path.basename(path)[:-5]
    for name in os.listdir(folder):
        if name.startswith("agent-") and name.endswith(".pid") and name[:-4] != mine:
            try:
                with open(os.path.join(folder, name)) as fh:
                    pid = int(fh.read().strip())
            except (OSError, ValueError):
                continue
            if _is_server(pid):
                os.kill(pid, signal.SIGTERM)
            for suffix in (".pid", ".sock", ".log"):
                try:
                    os.unlink(os.path.join(folder, name[:-4] + suffix))
                except OSError:
                    pass


__all__ = ["RUN_DIR", "SERVE", "WARM", "decode_request", "encode_request", "run", "serve", "socket_path"]
