"""The agent: one long-lived process per lab on the target, owner of its namespaces.

It speaks JSON lines on stdin/stdout (protocol version :data:`PROTOCOL_VERSION`):

* request ``{"id": N, "method": "...", "params": {...}}`` → exactly one reply
  ``{"id": N, "ok": true, "result": ...}`` or ``{"id": N, "ok": false, "error": {...}}``;
* ``{"id": M, "method": "cancel", "params": {"id": N}}`` cancels request N (the learner
  pressed "Interrupt kernel"): N then replies with an ``Interrupted`` error;
* while request N runs it may push ``{"event": N, "data": {...}}`` lines (packets,
  kernel changes, program output).

Requests are served concurrently, each in its own worker thread, so a long
``run`` or a wait for STP never blocks a step; kernel work is serialised by one lock
(see :mod:`.agent_api`). A line that is not a JSON object gets an error reply; it never ends the agent.

It runs as root (directly, through ``sudo -n``, inside a user namespace, or in a VM
over SSH), in its own session, so the notebook kernel's process-group SIGINT never
reaches it. When its controller goes away (stdin closes, SIGTERM, SIGHUP, or the
parent dies: PR_SET_PDEATHSIG) it ends its children and removes the lab's
namespaces, so nothing is left behind. Every child is started by one long-lived
thread (:class:`Spawner`), because a child's parent-death signal fires when the
*thread* that forked it exits.

Run it with ``python -m labkit.targets.agent --lab-id ID``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import InvalidInput, LabkitError, NotFound, StepFailed, TargetError
from ..i18n import tr
from ..names import check_lab_id
from ..steps.base import Op
from .agent_api import DIFFER, PROTOCOL_VERSION, Call, Cancelled, Handler, concurrent, exclusive, intact
from .agent_server import Server
from .collect import collect
from .executors import EXECUTORS
from .kernel import Kernel
from .process_exit import exit_now
from .procs import terminate
from .spawner import Spawner, set_parent_death_signal
from .tunfile import tun_problem

EXTENSIONS = ("agent_capture", "agent_tun", "agent_stp", "agent_confirm", "agent_watch")
SPAWN_SETTLE = 0.25  # seconds a new background program is watched: one that dies at once is an error


class Agent:
    """Request handlers over one lab's :class:`Kernel`; extensions add theirs (see :mod:`.agent_api`)."""

    def __init__(self, lab_id: str, target: str = "local") -> None:
        self.kernel = Kernel(check_lab_id(lab_id), EXECUTORS)
        self.target = target
        # One thread does all kernel work, in order: pyroute2's sockets belong to the thread
        # that made them, and steps must never interleave.
        self._kernel_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-kernel")
        self._kernel_ident = self._kernel_thread.submit(threading.get_ident).result()
        self.kernel_lock = threading.RLock()  # for extension state shared with concurrent handlers
        self.lock = self.kernel_lock  # older extensions' name for it
        self.spawner = Spawner()
        self.private_dir = tempfile.mkdtemp(prefix=f"labkit-{lab_id}-")  # 0700: program logs live here
        self.handlers: dict[str, Handler | Callable[..., Any]] = {
            "hello": exclusive(self.hello), "apply": exclusive(self.apply), "snapshot": exclusive(self.snapshot),
            "run": concurrent(self.run), "spawn": exclusive(self.spawn), "spawn_poll": exclusive(self.spawn_poll),
            "spawn_stop": exclusive(self.spawn_stop), "destroy": exclusive(self.destroy), "wipe": exclusive(self.wipe),
            "ping": exclusive(lambda: "pong"), "sleep": concurrent(self.sleep), "features": exclusive(self.features),
            "python": exclusive(self.python),
        }
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.named: dict[str, int] = {}  # background programs started with a name → pid
        self.cleanups: list[Callable[[], None]] = []  # run once, by the next cleanup or wipe
        self.extension_cleanups: list[Callable[[], None]] = []  # run by every cleanup and wipe
        self.keep = False
        for module in EXTENSIONS:  # an extension that fails to import is a broken agent: say so loudly
            extension = __import__(f"{__package__}.{module}", fromlist=["EXTENSION", "register"])
            if hasattr(extension, "EXTENSION"):
                ext = extension.EXTENSION(self)
                self.handlers.update(ext.handlers())
                self.extension_cleanups.append(ext.cleanup)
            else:
                extension.register(self)

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a child process that dies with the agent (see :class:`Spawner`)."""
        return self.spawner.popen(argv, **kwargs)

    def on_kernel(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the kernel thread (at once when already there) and return its result."""
        if threading.get_ident() == self._kernel_ident:
            return fn(*args, **kwargs)
        return self._kernel_thread.submit(fn, *args, **kwargs).result()

    # -- handlers -----------------------------------------------------------------
    def hello(self) -> dict[str, Any]:
        return {"protocol": PROTOCOL_VERSION, "lab_id": self.kernel.lab_id, "pid": os.getpid(), "uid": os.geteuid(),
                "kernel": platform.release(), "python": platform.python_version(), "namespaces": self.kernel.labels(),
                "methods": sorted(self.handlers)}

    def apply(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = self.kernel.apply([Op.from_dict(o) for o in ops])
        return [{"op": op.to_dict(), "changed": d.changed, "undo": [u.to_dict() for u in d.undo],
                 "commands": d.commands or [op.command]} for op, d in done]

    def python(self) -> dict[str, str]:
        """The agent's interpreter and the path that makes labkit (and pyroute2) importable there."""
        import labkit

        return {"executable": sys.executable, "path": os.path.dirname(os.path.dirname(os.path.abspath(labkit.__file__)))}

    def snapshot(self) -> dict[str, Any]:
        return collect(self.kernel, self.target)

    def _argv(self, ns: str, argv: list[str]) -> list[str]:
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a and "\0" not in a for a in argv):
            raise InvalidInput(tr("{argv} is not a command line", argv=repr(argv)), hint=tr("give the program and its arguments as strings"))
        if not self.on_kernel(self.kernel.has_ns, ns):
            raise NotFound(tr("namespace {ns!r} does not exist", ns=ns), where=tr("lab {lab_id}", lab_id=self.kernel.lab_id),
                           hint=tr("existing: {names}", names=", ".join(self.on_kernel(self.kernel.labels))))
        return ["ip", "netns", "exec", self.kernel.netns(ns), *argv]

    def run(self, call: Call, ns: str, argv: list[str], input: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        """Run ``argv`` in ``ns`` to its end (or ``timeout`` s, or until cancelled) and return its output."""
        words = self._argv(ns, argv)
        try:
            proc = self.popen(words, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError as exc:
            raise TargetError(tr("cannot run {program!r}: {error}", program=argv[0], error=str(exc)), hint=tr("install it on the target")) from None
        started = time.monotonic()
        send = input.encode() if input is not None else None
        out = err = b""
        while True:
            try:
                out, err = proc.communicate(send, timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                send = None  # sent with the first call; a retry must not send it again
                stopped = "interrupted" if call.cancelled.is_set() else \
                    "timed out" if time.monotonic() - started > timeout else ""
                if stopped:
                    proc.kill()
                    out, err = proc.communicate()
                    if stopped == "interrupted":
                        tail = _text(out).strip()[-400:]
                        raise Cancelled(tr("`{command}` was stopped", command=" ".join(argv)), where=tr("namespace {ns}", ns=ns), hint=intact(tail)) from None
                    return {"returncode": 124, "stdout": _text(out),
                            "stderr": _text(err) + f"\n(timed out after {timeout} s)"}
        return {"returncode": proc.returncode, "stdout": _text(out), "stderr": _text(err)}

    def sleep(self, call: Call, seconds: float) -> float:
        """Wait ``seconds`` (cancellable): for tests of the protocol."""
        call.sleep(float(seconds))
        return float(seconds)

    def spawn(self, ns: str, argv: list[str], name: str | None = None) -> dict[str, Any]:
        """Start a background program in ``ns``; its output goes to a private file read by spawn_poll.

        With ``name``, a program of that name still running is stopped first, so a notebook
        cell that starts a server can be run again. One that exits with an error at once
        raises, with what it printed."""
        if name is not None and name in self.named and self.named[name] in self.children:
            self.spawn_stop(self.named.pop(name))
        words = self._argv(ns, argv)
        log = tempfile.NamedTemporaryFile(dir=self._private_dir(), prefix="program-", suffix=".log", delete=False)  # noqa: SIM115
        try:
            proc = self.popen(words, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        except FileNotFoundError as exc:
            log.close()
            os.unlink(log.name)
            raise TargetError(tr("cannot run {program!r}: {error}", program=argv[0], error=str(exc)), hint=tr("install it on the target")) from None
        proc.log = log  # type: ignore[attr-defined]
        self.children[proc.pid] = proc
        if name is not None:
            self.named[name] = proc.pid
        try:
            code = proc.wait(timeout=SPAWN_SETTLE)
        except subprocess.TimeoutExpired:
            code = None
        if code:
            output = self.spawn_stop(proc.pid)["output"].strip()
            raise StepFailed(tr("`{command}` exited at once with status {code}", command=" ".join(argv), code=code), where=tr("namespace {ns}", ns=ns),
                             hint=output[-600:] if output else tr("it printed nothing; check its arguments"))
        return {"pid": proc.pid}

    def _private_dir(self) -> str:
        if not os.path.isdir(self.private_dir):  # `wipe` removes it
            self.private_dir = tempfile.mkdtemp(prefix=f"labkit-{self.kernel.lab_id}-")
        return self.private_dir

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
        self.named = {n: p for n, p in self.named.items() if p != pid}
        return result

    def _child(self, pid: int) -> subprocess.Popen[bytes]:
        if pid not in self.children:
            raise NotFound(tr("no background program with pid {pid} in this lab", pid=pid), hint=tr("it was stopped already"))
        return self.children[pid]

    def destroy(self, keep: bool = False) -> dict[str, Any]:
        """End the lab: stop children, remove namespaces (unless ``keep``)."""
        self.keep = keep
        return {"removed": self.cleanup()}

    def features(self, kinds: list[str]) -> dict[str, bool]:
        """Which device kinds this kernel can make, tried for real in a scratch namespace."""
        from .. import kinds as registry
        from ..steps import ops as make

        probe = "probe"
        self.kernel.create_ns(probe)
        found: dict[str, bool] = {}
        try:
            for number, name in enumerate(kinds):
                kind = registry.KINDS.get(name)
                if kind is None or kind.created_by != "link_add":  # tun and tap are made through /dev/net/tun
                    found[name] = kind is not None and tun_problem() is None  # opened for real: mode, container rules
                    continue
                lower = f"lower{number}"  # each child kind gets its own parent: macvlan and ipvlan cannot share one
                params = {key: value.format(name=f"p{number}") if isinstance(value, str) else value
                          for key, value in kind.probe.items()}
                if kind.parent:
                    params["link"] = lower
                plan = [make.link_add(probe, f"p{number}", name, **params)]
                if kind.parent:
                    plan.insert(0, make.link_add(probe, lower, "veth", peer=f"lp{number}", peer_ns=probe))
                try:
                    self.kernel.apply(plan)
                    found[name] = True
                except LabkitError:
                    found[name] = False
        finally:
            self.kernel.delete_ns(probe)
        return found

    def wipe(self) -> dict[str, Any]:
        """Remove every namespace and background program of the lab, and keep serving.

        In a VM the guest's own namespace keeps its ``host`` label (only the label is
        ever removed, never that namespace)."""
        attached = self.kernel.host_attached
        removed = self.cleanup()
        if attached:
            self.kernel.attach_host()
        return {"removed": [label for label in removed if label != Kernel.HOST or not attached]}

    # -- lifecycle ----------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Stop everything the lab runs and remove its namespaces (unless ``keep``)."""
        return list(self.on_kernel(self._cleanup))

    def _cleanup(self) -> list[str]:
        with self.kernel_lock:
            for fn in [*reversed(self.cleanups), *reversed(self.extension_cleanups)]:
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
            shutil.rmtree(self.private_dir, ignore_errors=True)
            return removed

    # -- serving ------------------------------------------------------------------
    def handler(self, method: Any) -> Handler:
        found = self.handlers.get(method) if isinstance(method, str) else None
        if found is None:
            raise TargetError(tr("unknown request {method}", method=repr(method)), hint=DIFFER)
        return found if isinstance(found, Handler) else exclusive(found)

    def handle(self, request: dict[str, Any], call: Call | None = None) -> dict[str, Any]:
        """Serve one request (in the calling thread) and return its reply."""
        rid = request.get("id")
        call = call or Call(rid if isinstance(rid, int) else -1, str(request.get("method")))
        try:
            handler = self.handler(request.get("method"))
            params = request.get("params", {})
            if not isinstance(params, dict):
                raise InvalidInput(tr("the params of {method} are not an object", method=repr(request.get("method"))))
            args = (call,) if handler.wants_call else ()
            _check_params(handler.fn, len(args), params, str(request.get("method")))
            if handler.exclusive:
                call.check()
                result = self.on_kernel(handler.fn, *args, **params)
            else:
                result = handler.fn(*args, **params)
            return {"id": rid, "ok": True, "result": result}
        except LabkitError as exc:
            return {"id": rid, "ok": False, "error": exc.to_dict()}
        except Exception as exc:
            detail = traceback.format_exc(limit=3)
            return {"id": rid, "ok": False,
                    "error": TargetError(tr("agent error in {method}: {error}", method=request.get("method"), error=repr(exc)),
                                         hint=detail.strip().splitlines()[-1]).to_dict()}


def _check_params(fn: Callable[..., Any], skip: int, params: dict[str, Any], method: str) -> None:
    """A request whose params do not fit the handler is the caller's error, not the agent's."""
    try:
        inspect.signature(fn).bind(*([None] * skip), **params)
    except TypeError as exc:
        raise InvalidInput(tr("bad params for {method!r}: {error}", method=method, error=str(exc)), hint=DIFFER) from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def main(argv: list[str] | None = None, *, parent_death: bool = True) -> int:
    """Serve one lab on stdin/stdout (``parent_death=False``: forked by :mod:`.agent_fork`, see there)."""
    parser = argparse.ArgumentParser(prog="labkit-agent", description=__doc__)
    parser.add_argument("--lab-id", required=True)
    parser.add_argument("--target", default="local")
    parser.add_argument("--allow-host", action="store_true", help="name the agent's own namespace 'host' (only in a disposable VM)")
    args = parser.parse_args(argv)
    if parent_death:
        set_parent_death_signal(signal.SIGTERM)
    tx = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    agent = Agent(args.lab_id, args.target)
    if args.allow_host:
        if args.target != "vagrant":
            parser.error("--allow-host is only for a disposable VM (--target vagrant): the local sandbox never touches the host")
        agent.kernel.attach_host()
    server = Server(agent, sys.stdin.buffer, tx)

    def on_signal(_signum: int, _frame: Any) -> None:
        server.stopping.set()  # only a flag: the main loop sees it within 0.2 s and cleans up

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the notebook's, sent as `cancel`
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    try:
        server.serve()
    finally:
        agent.cleanup()
        terminate(list(agent.children))
    return 0


if __name__ == "__main__":
    exit_now(main())  # at once, once the lab is cleaned up (see exit_now)
