"""The agent: one long-lived process per lab on the target, owner of its namespaces.

It speaks JSON lines on stdin/stdout: each request ``{"id", "method", "params"}``
gets one answer ``{"id", "ok": true, "result"}`` or ``{"id", "ok": false, "error"}``.
It runs as root (directly, through ``sudo -n``, inside a user namespace, or in a VM
over SSH). When its controller goes away (stdin closes, SIGTERM, or the parent dies)
it ends its children and removes the lab's namespaces, so nothing is left behind.

Run it with ``python -m labkit.targets.agent --lab-id ID``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from ..errors import LabkitError, NotFound, TargetError
from ..names import check_lab_id
from ..steps.base import Op
from .collect import collect
from .kernel import Kernel
from .procs import terminate

PR_SET_PDEATHSIG = 1
Handler = Callable[..., Any]


class Agent:
    """Request handlers over one lab's :class:`Kernel`; extensions add handlers via ``register``."""

    def __init__(self, lab_id: str, target: str = "local") -> None:
        self.kernel = Kernel(check_lab_id(lab_id))
        self.target = target
        self.handlers: dict[str, Handler] = {
            "hello": self.hello, "apply": self.apply, "snapshot": self.snapshot, "run": self.run,
            "spawn": self.spawn, "spawn_poll": self.spawn_poll, "spawn_stop": self.spawn_stop,
            "destroy": self.destroy, "wipe": self.wipe, "ping": lambda: "pong",
            "features": self.features, "python": self.python, "apply_confirmed": self.apply_confirmed, "confirm": self.confirm,
        }
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.cleanups: list[Callable[[], None]] = []
        self.keep = False
        self.lock = threading.RLock()
        self.pending: dict[str, Any] | None = None
        for module in ("agent_capture", "agent_tun", "agent_stp"):
            try:
                extension = __import__(f"{__package__}.{module}", fromlist=["register"])
            except ImportError:
                continue
            extension.register(self)

    # -- handlers -----------------------------------------------------------------
    def hello(self) -> dict[str, Any]:
        return {"lab_id": self.kernel.lab_id, "pid": os.getpid(), "uid": os.geteuid(), "kernel": platform.release(),
                "python": platform.python_version(), "namespaces": self.kernel.labels()}

    def apply(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = self.kernel.apply([Op.from_dict(o) for o in ops])
        return [{"op": op.to_dict(), "changed": d.changed, "undo": [u.to_dict() for u in d.undo],
                 "commands": d.commands or [op.command]} for op, d in done]

    def python(self) -> dict[str, str]:
        """The agent's interpreter and the path that makes labkit (and pyroute2) importable there."""
        import labkit

        return {"executable": sys.executable, "path": os.path.dirname(os.path.dirname(os.path.abspath(labkit.__file__)))}

    def apply_confirmed(self, ops: list[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
        """Apply ops, then undo them by ourselves unless ``confirm`` comes within ``timeout`` s.

        Like a router's commit-confirmed: a change that cuts the controller off (say,
        enslaving the eth0 that carries our SSH session the wrong way) rolls itself back."""
        if self.pending is not None:
            raise TargetError("a confirmed change is already waiting", hint="confirm it or let it roll back first")
        results = self.apply(ops)
        token = f"c{time.monotonic_ns()}"
        undo = [Op.from_dict(u) for r in reversed(results) for u in r["undo"]]
        timer = threading.Timer(timeout, self._roll_back, args=(token,))
        self.pending = {"token": token, "undo": undo, "timer": timer, "state": "waiting", "applied_at": time.monotonic()}
        timer.daemon = True
        timer.start()
        return {"token": token, "results": results, "timeout": timeout}

    def _roll_back(self, token: str) -> None:
        with self.lock:
            if self.pending and self.pending["token"] == token and self.pending["state"] == "waiting":
                for op in self.pending["undo"]:
                    try:
                        self.kernel.apply([op])
                    except LabkitError:
                        continue
                self.pending["state"] = "rolled back"
                self.pending["rolled_back_after"] = round(time.monotonic() - self.pending["applied_at"], 3)

    def confirm(self, token: str) -> dict[str, Any]:
        """Keep the change (if it is still waiting); says whether it had already rolled back."""
        pending = self.pending
        if pending is None or pending["token"] != token:
            raise NotFound(f"no confirmed change {token!r} is waiting", hint="apply it with apply_confirmed first")
        pending["timer"].cancel()
        self.pending = None
        if pending["state"] == "rolled back":
            return {"kept": False, "rolled_back_after": pending["rolled_back_after"],
                    "undo": [op.to_dict() for op in pending["undo"]]}
        return {"kept": True, "undo": [op.to_dict() for op in pending["undo"]]}

    def snapshot(self) -> dict[str, Any]:
        return collect(self.kernel, self.target)

    def _argv(self, ns: str, argv: list[str]) -> list[str]:
        if not self.kernel.has_ns(ns):
            raise NotFound(f"namespace {ns!r} does not exist", where=f"lab {self.kernel.lab_id}",
                           hint=f"existing: {', '.join(self.kernel.labels())}")
        return ["ip", "netns", "exec", self.kernel.netns(ns), *argv]

    def run(self, ns: str, argv: list[str], input: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        try:
            done = subprocess.run(self._argv(ns, argv), input=input, capture_output=True, text=True,
                                  timeout=timeout, check=False, preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired as exc:
            return {"returncode": 124, "stdout": _text(exc.stdout), "stderr": _text(exc.stderr) + f"\n(timed out after {timeout} s)"}
        except FileNotFoundError as exc:
            raise TargetError(f"cannot run {argv[0]!r}: {exc}", hint="install it on the target") from None
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    def spawn(self, ns: str, argv: list[str]) -> dict[str, Any]:
        """Start a background program in ``ns``; its output goes to a file read by spawn_poll."""
        log = open(f"/tmp/labkit-{self.kernel.lab_id}-{time.monotonic_ns()}.log", "w+b")  # noqa: SIM115
        proc = subprocess.Popen(self._argv(ns, argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
        proc.log = log  # type: ignore[attr-defined]
        self.children[proc.pid] = proc
        return {"pid": proc.pid}

    def spawn_poll(self, pid: int) -> dict[str, Any]:
        proc = self._child(pid)
        proc.log.flush()  # type: ignore[attr-defined]
        with open(proc.log.name, "rb") as fh:  # type: ignore[attr-defined]
            output = fh.read().decode(errors="replace")
        return {"returncode": proc.poll(), "output": output}

    def spawn_stop(self, pid: int) -> dict[str, Any]:
        proc = self._child(pid)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        result = self.spawn_poll(pid)
        proc.log.close()  # type: ignore[attr-defined]
        os.unlink(proc.log.name)  # type: ignore[attr-defined]
        del self.children[pid]
        return result

    def _child(self, pid: int) -> subprocess.Popen[bytes]:
        if pid not in self.children:
            raise NotFound(f"no background program with pid {pid} in this lab", hint="it was stopped already")
        return self.children[pid]

    def destroy(self, keep: bool = False) -> dict[str, Any]:
        """End the lab: stop children, remove namespaces (unless ``keep``)."""
        self.keep = keep
        return {"removed": self.cleanup()}

    def features(self, kinds: list[str]) -> dict[str, bool]:
        """Which device kinds this kernel can make, tried for real in a scratch namespace."""
        from ..steps import ops as make

        probe = "probe"
        self.kernel.create_ns(probe)
        found: dict[str, bool] = {}
        try:
            for number, kind in enumerate(kinds):
                lower = f"lower{number}"  # each child kind gets its own parent: macvlan and ipvlan cannot share one
                table: dict[str, dict[str, Any]] = {
                    "vlan": {"link": lower, "vlan_id": 10}, "ipvlan": {"link": lower, "mode": "l2"},
                    "macvlan": {"link": lower, "mode": "bridge"}, "vxlan": {"vni": 42, "remote": "10.0.0.2"},
                    "geneve": {"vni": 42, "remote": "10.0.0.2"}, "bridge": {}, "veth": {"peer": f"pp{number}"},
                }
                params = table.get(kind, {"local": "10.0.0.1", "remote": "10.0.0.2"})
                plan = [make.link_add(probe, f"p{number}", kind, **params)]
                if "link" in params:
                    plan.insert(0, make.link_add(probe, lower, "veth", peer=f"lp{number}", peer_ns=probe))
                try:
                    self.kernel.apply(plan)
                    found[kind] = True
                except LabkitError:
                    found[kind] = False
        finally:
            self.kernel.delete_ns(probe)
        return found

    def wipe(self) -> dict[str, Any]:
        """Remove every namespace and background program of the lab, and keep serving."""
        return {"removed": self.cleanup()}

    # -- lifecycle ----------------------------------------------------------------
    def cleanup(self) -> list[str]:
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                continue
        self.cleanups.clear()
        for pid in list(self.children):
            try:
                self.spawn_stop(pid)
            except Exception:
                continue
        removed: list[str] = []
        if not self.keep:
            for label in reversed(self.kernel.labels()):
                try:
                    self.kernel.delete_ns(label)
                    removed.append(label)
                except OSError:
                    continue
        self.kernel.close()
        return removed

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        rid = request.get("id")
        method = self.handlers.get(request.get("method", ""))
        if method is None:
            return {"id": rid, "ok": False, "error": TargetError(f"unknown request {request.get('method')!r}").to_dict()}
        try:
            with self.lock:
                return {"id": rid, "ok": True, "result": method(**request.get("params", {}))}
        except LabkitError as exc:
            return {"id": rid, "ok": False, "error": exc.to_dict()}
        except Exception as exc:
            detail = traceback.format_exc(limit=3)
            return {"id": rid, "ok": False,
                    "error": TargetError(f"agent error in {request.get('method')}: {exc!r}", hint=detail.strip().splitlines()[-1]).to_dict()}


def _die_with_parent() -> None:
    """In a child: get SIGKILL when the agent dies, so no tcpdump or dnsmasq outlives it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def serve(agent: Agent, rx: IO[str], tx: IO[str]) -> None:
    """Answer requests until stdin closes."""
    lock = threading.Lock()
    for line in rx:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            answer = {"id": None, "ok": False, "error": TargetError("the agent got a line that is not JSON").to_dict()}
        else:
            answer = agent.handle(request)
        with lock:
            tx.write(json.dumps(answer, default=str) + "\n")
            tx.flush()
        if request.get("method") == "destroy":
            break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit-agent", description=__doc__)
    parser.add_argument("--lab-id", required=True)
    parser.add_argument("--target", default="local")
    parser.add_argument("--allow-host", action="store_true",
                        help="name the agent's own namespace 'host' (only in a disposable VM)")
    args = parser.parse_args(argv)
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    tx = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    agent = Agent(args.lab_id, args.target)
    if args.allow_host:
        if args.target != "vagrant":
            parser.error("--allow-host is only for a disposable VM (--target vagrant): the local sandbox never touches the host")
        agent.kernel.attach_host()

    def on_signal(signum: int, _frame: Any) -> None:
        agent.cleanup()
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        serve(agent, sys.stdin, tx)
    finally:
        agent.cleanup()
        terminate([p for p in agent.children])
    return 0


if __name__ == "__main__":
    sys.exit(main())
