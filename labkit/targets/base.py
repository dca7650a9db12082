"""The one interface between the library and a place with a kernel: a Target.

A target runs one agent (see :mod:`.agent`) and forwards requests to it. Only code
under ``targets/`` starts processes or opens connections; everything else in
labkit talks to a Target, so tests can give it a fake one.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from typing import IO, Any, Protocol

from ..errors import LabkitError, TargetError


class Target(Protocol):
    """Where a lab runs: ``request`` one agent method, ``close`` the agent."""

    name: str
    lab_id: str

    def request(self, method: str, **params: Any) -> Any: ...

    def close(self) -> None: ...


class AgentPipe:
    """A running agent process and its JSON-lines conversation (one request at a time)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, what: str = "agent",
                 preamble: bytes = b"") -> None:
        self.what = what
        self._log = tempfile.NamedTemporaryFile(prefix="labkit-agent-", suffix=".log", delete=False)  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                         env=env, text=True, bufsize=1)
        except FileNotFoundError as exc:
            raise TargetError(f"cannot start the {what}: {exc}", hint="run `labkit doctor`") from None
        self._lock = threading.Lock()
        self._next = 0
        if preamble and self.proc.stdin is not None:
            raw = self.proc.stdin.buffer  # type: ignore[attr-defined]  # a TextIOWrapper's bytes underneath
            raw.write(preamble)  # e.g. the agent's code, before the conversation starts
            raw.flush()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self, lines: int = 12) -> str:
        try:
            with open(self._log.name, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-lines:]).strip()
        except OSError:
            return ""

    def request(self, method: str, **params: Any) -> Any:
        with self._lock:
            self._next += 1
            line = json.dumps({"id": self._next, "method": method, "params": params})
            stdin: IO[str] | None = self.proc.stdin
            stdout: IO[str] | None = self.proc.stdout
            if stdin is None or stdout is None or self.proc.poll() is not None:
                raise TargetError(f"the {self.what} is not running", hint=self.stderr_tail() or "start a new Lab()")
            try:
                stdin.write(line + "\n")
                stdin.flush()
                answer = stdout.readline()
            except (BrokenPipeError, OSError) as exc:
                raise TargetError(f"lost the {self.what}: {exc}", hint=self.stderr_tail() or "start a new Lab()") from None
            if not answer:
                raise TargetError(f"the {self.what} exited", hint=self.stderr_tail() or "start a new Lab()")
            reply = json.loads(answer)
        if reply.get("ok"):
            return reply.get("result")
        raise LabkitError.from_dict(reply.get("error", {}))

    def close(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            try:
                self.request("destroy")
            except LabkitError:
                pass
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        for stream in (self.proc.stdout, self.proc.stdin):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass


class AgentTarget:
    """What every target shares once its agent runs: requests over the pipe, and closing it."""

    name = "agent"
    lab_id = ""
    _pipe: AgentPipe
    info: dict[str, Any]

    @property
    def agent_pid(self) -> int:
        """The agent's PID on the target (in the VM for the Vagrant target)."""
        return int(self.info["pid"])

    def request(self, method: str, **params: Any) -> Any:
        return self._pipe.request(method, **params)

    def close(self) -> None:
        self._pipe.close()
