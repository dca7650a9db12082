"""A client for Wireshark's ``sharkd``: Wireshark's dissectors as a process that answers JSON.

``sharkd -`` (Debian's ``wireshark-common``) reads JSON-RPC 2.0 requests on stdin, one
object per line, and answers each on one stdout line with the same ``id``: ``load`` a
capture file, ``status``, ``frames`` (the packet list), ``frame`` (one packet's tree
with ``proto: true`` and its bytes with ``bytes: true``), ``follow`` (a TCP/UDP
stream's payloads, given a display filter such as ``tcp.stream eq 0``). It reads files
only, never a live interface or a growing file, so labkit hands it a copy of the
pcap captured so far and loads it again when more packets have come.

:class:`Sharkd` owns one sharkd process: every wait has a deadline, every reply is
matched to its request by id, and an error reply becomes a :class:`TargetError` that
says which request failed and what sharkd said. sharkd holds about 160 MB, so it is
stopped after ``IDLE_CLOSE`` seconds without a request and started again when needed. The replies are parsed in
:mod:`.dissection` (pure). sharkd runs where the notebook runs (the pcap bytes are
here), for the local sandbox and the VM target alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from typing import Any

from ..errors import MissingTool, TargetError
from ..i18n import tr
from .dissection import Dissection, FollowStream, parse_follow, parse_frame

INSTALL = tr("apt-get install wireshark-common (Debian/Ubuntu; it ships /usr/bin/sharkd)")
#: seconds without a request after which sharkd is stopped (it holds about 160 MB; the next request starts it again)
IDLE_CLOSE = 120.0


def sharkd_path() -> str | None:
    """Where sharkd is, or None."""
    return shutil.which("sharkd")


def request_line(rid: int, method: str, params: dict[str, Any] | None = None) -> str:
    """One JSON-RPC 2.0 request, as sharkd reads it: one line."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params:
        body["params"] = params
    return json.dumps(body, separators=(",", ":")) + "\n"


def reply_result(line: str, rid: int, method: str) -> Any:
    """The ``result`` of a reply line for request ``rid``; an error reply or a stray answer raises."""
    try:
        reply = json.loads(line)
    except json.JSONDecodeError:
        raise TargetError(tr("sharkd answered {method} with something that is not JSON: {line!r}", method=method,
                             line=line[:200])) from None
    if not isinstance(reply, dict) or reply.get("id") != rid:
        raise TargetError(tr("sharkd answered request {got} while labkit waited for {rid} ({method})",
                             got=reply.get("id") if isinstance(reply, dict) else "?", rid=rid, method=method),
                          hint=tr("close it (cap.wireshark.close()) and retry"))
    if "error" in reply:
        err = reply["error"] or {}
        raise TargetError(tr("sharkd refused {method}: {said} (code {code})", method=method, said=err.get("message", err),
                             code=err.get("code", "?")),
                          hint=tr("check the frame number or filter; sharkd's own words are above"))
    return reply.get("result")


class Sharkd:
    """One ``sharkd -`` process (started on first use) and the file it has loaded."""

    def __init__(self, binary: str | None = None, timeout: float = 30.0, idle_close: float | None = IDLE_CLOSE) -> None:
        self.binary = binary or sharkd_path()
        self.timeout = timeout
        self.idle_close = idle_close
        self._timer: threading.Timer | None = None
        self.proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=50)
        self._next = 0
        self._lock = threading.RLock()  # one request at a time; load and close hold it too (the idle timer closes)
        self._dir = ""
        self._loaded = ""  # digest of the bytes loaded now

    @property
    def available(self) -> bool:
        return bool(self.binary and os.access(self.binary, os.X_OK))

    def start(self) -> Sharkd:
        if self.proc is not None and self.proc.poll() is None:
            return self
        if not self.available:
            raise MissingTool(tr("Wireshark's sharkd is not installed, so Wireshark's dissection is not available"),
                              where=tr("the machine running this notebook"), hint=INSTALL)
        assert self.binary is not None
        self.proc = subprocess.Popen([self.binary, "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", bufsize=1)
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True, name="sharkd-out").start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True, name="sharkd-err").start()
        self._loaded = ""
        return self

    @staticmethod
    def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
        for line in stream:
            if line.strip():
                lines.put(line)
        lines.put(None)  # EOF: sharkd ended

    def _drain(self, stream: Any) -> None:
        for line in stream:
            self._stderr.append(line.rstrip())

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        """Send one request and return its result (within ``timeout`` seconds)."""
        with self._lock:
            self.start()
            assert self.proc is not None and self.proc.stdin is not None
            self._next += 1
            rid = self._next
            try:
                self.proc.stdin.write(request_line(rid, method, params))
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                raise self._died(method) from None
            try:
                line = self._lines.get(timeout=timeout or self.timeout)
            except queue.Empty:
                self.close()
                raise TargetError(tr("sharkd did not answer {method} within {seconds:.0f} s", method=method,
                                     seconds=timeout or self.timeout),
                                  hint=tr("it was stopped; the next request starts a new one")) from None
            if line is None:
                raise self._died(method)
            self._arm()
            return reply_result(line, rid, method)

    def _arm(self) -> None:
        """(Re)start the idle timer: a notebook keeps many captures, each would keep its sharkd."""
        if self._timer is not None:
            self._timer.cancel()
        if self.idle_close:
            self._timer = threading.Timer(self.idle_close, self._idle)
            self._timer.daemon = True
            self._timer.start()

    def _idle(self) -> None:
        if self._lock.acquire(blocking=False):  # a request running now keeps it
            try:
                self.close()
            finally:
                self._lock.release()

    def _died(self, method: str) -> TargetError:
        code = self.proc.poll() if self.proc else None
        self.proc = None
        last = " | ".join(list(self._stderr)[-3:])
        return TargetError(tr("sharkd ended (exit code {code}) during {method}", code=code, method=method),
                           hint=tr("its last words: {words}", words=last) if last else tr("it said nothing before it ended"))

    def load(self, data: bytes, name: str = "capture.pcap") -> None:
        """Load a pcap/pcapng given as bytes (written to a private file; skipped when already loaded)."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            if digest == self._loaded and self.proc is not None and self.proc.poll() is None:
                return
            if not self._dir or not os.path.isdir(self._dir):
                self._dir = tempfile.mkdtemp(prefix="labkit-sharkd-")
            path = os.path.join(self._dir, os.path.basename(name))
            with open(path, "wb") as fh:
                fh.write(data)
            result = self.call("load", {"file": path})
            if not isinstance(result, dict) or result.get("status") != "OK":
                raise TargetError(tr("sharkd could not load {name}: {result}", name=name, result=result),
                                  hint=tr("is it a complete pcap file?"))
            self._loaded = digest

    def frame(self, number: int, device: str = "") -> Dissection:
        """Frame ``number`` (from 1) of the loaded file: its tree with byte ranges, and its bytes."""
        return parse_frame(self.call("frame", {"frame": int(number), "proto": True, "bytes": True}), device, number)

    def follow(self, proto: str, filter: str, device: str = "") -> FollowStream:
        """The payloads of the stream ``filter`` selects ('tcp.stream eq 0'), both directions."""
        return parse_follow(self.call("follow", {"follow": proto, "filter": filter}), device, proto, filter)

    def close(self) -> None:
        """Stop sharkd and remove the files it was given."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            proc, self.proc = self.proc, None
            if proc is not None:
                try:
                    if proc.stdin:
                        proc.stdin.close()
                    proc.wait(timeout=3)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait()
            if self._dir:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = ""
            self._loaded = ""

    def __enter__(self) -> Sharkd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
