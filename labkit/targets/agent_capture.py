"""Agent extension: tcpdump captures inside the lab's namespaces, written to files.

A capture is one ``tcpdump`` per device, started in the device's namespace with
``ip netns exec``. tcpdump writes pcap to its stdout (``-w -``), which the agent has
opened on a file it owns, flushed after every packet (``-U``) and handed over by
libpcap at once (``--immediate-mode``: without it, packets still in the kernel
buffer are lost when tcpdump is stopped). The controller reads the file by offset
(``capture_read``), so a burst of 10,000 packets/s is kept whole, and the same calls
work over SSH for the VM target. Because the file is opened by the agent, not by
tcpdump, it does not matter that tcpdump drops root privileges after opening the
device; as root it is told ``-Z root`` anyway, because a process that changes its
user id loses its parent-death signal, and the agent's children must die with it.
In a user namespace (the rootless mode) tcpdump cannot change its user at all; there
the agent falls back to :func:`capture_main`, a small tcpdump written in Python with
an AF_PACKET socket, which gives the same pcap, the same lines and the same counts.

Requests (all JSON-plain)::

    capture_start(ns, dev, filter="", snaplen=262144, count=None, wait=True) → {id, pid, ...}
    capture_ready(ids, timeout=5)        wait until each tcpdump says "listening on"
    capture_read(id, offset=0, max_bytes=1 MiB) → {data: base64, offset, size, running, ...}
    capture_stop(id, remove=True)         SIGINT → {captured, received, dropped, ...}
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from ..errors import InvalidInput, MissingTool, NoPrivileges, NotFound, StepFailed, TargetError, WrongNamespace
from ..names import check_filter, check_ifname
from .agent import Agent

LISTENING = re.compile(r"listening on (\S+), link-type (\S+)")
STATS = {"captured": re.compile(r"(\d+) packets? captured"),
         "received": re.compile(r"(\d+) packets? received by filter"),
         "dropped": re.compile(r"(\d+) packets? dropped by kernel")}
MAX_READ = 4 << 20
BUFFER_KIB = 32768  # the kernel ring tcpdump reads from: 32 MiB absorbs a burst while tcpdump catches up


class _Capture:
    """One running tcpdump, its pcap file and the lines it wrote to stderr."""

    def __init__(self, cid: str, ns: str, dev: str, argv: list[str], path: str, proc: subprocess.Popen[bytes],
                 out: Any) -> None:
        self.id, self.ns, self.dev, self.argv, self.path, self.proc, self.out = cid, ns, dev, argv, path, proc, out
        self.lines: list[str] = []
        self.params: tuple[Any, ...] = ()
        self.listening = threading.Event()
        self.link_type = ""
        self.started = time.time()
        self.reader = threading.Thread(target=self._read_stderr, name=f"tcpdump-{dev}", daemon=True)
        self.reader.start()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        if stream is None:
            return
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            found = LISTENING.search(line)
            if found:
                self.link_type = found.group(2)
                self.listening.set()
        self.listening.set()  # tcpdump ended: whoever waits looks at returncode

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def stats(self) -> dict[str, int | None]:
        text = self.stderr
        return {key: int(m.group(1)) if (m := rx.search(text)) else None for key, rx in STATS.items()}

    def info(self) -> dict[str, Any]:
        return {"id": self.id, "ns": self.ns, "dev": self.dev, "pid": self.proc.pid, "argv": self.argv,
                "link_type": self.link_type, "running": self.proc.poll() is None, "returncode": self.proc.poll(),
                "size": _size(self.path)}


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Captures:
    """The capture requests of one agent; ``cleanup`` stops every tcpdump and removes its file."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.running: dict[str, _Capture] = {}
        self.dir = ""
        self._next = 0
        self.python_capture = False

    # -- requests -----------------------------------------------------------------
    def start(self, ns: str, dev: str, filter: str = "", snaplen: int = 262144, count: int | None = None,
              wait: bool = True, timeout: float = 5.0, buffer_kib: int = BUFFER_KIB) -> dict[str, Any]:
        """Start tcpdump on ``dev`` in namespace ``ns``; with ``wait``, return once it listens."""
        binary = shutil.which("tcpdump")
        if binary is None:
            raise MissingTool("tcpdump is not installed on the target, so nothing can be captured",
                              where=f"lab {self.agent.kernel.lab_id}", hint="apt-get install tcpdump")
        check_ifname(dev)
        filter = check_filter(filter)
        if not 0 < int(snaplen) <= 262144:
            raise InvalidInput(f"snaplen {snaplen} is out of range", hint="use 1..262144 bytes (0 is not allowed here)")
        self._check_device(ns, dev)
        if self.cleanup not in self.agent.cleanups:  # `wipe` ran the cleanups (and cleared them) but keeps serving
            self.agent.cleanups.append(self.cleanup)
        self._next += 1
        cap = self._launch(f"c{self._next}", ns, dev, filter, int(snaplen), count, int(buffer_kib))
        if wait:
            self.ready([cap.id], timeout)
        return cap.info()

    def _launch(self, cid: str, ns: str, dev: str, filter: str, snaplen: int, count: int | None,
                buffer_kib: int) -> _Capture:
        if not self.dir or not os.path.isdir(self.dir):
            self.dir = tempfile.mkdtemp(prefix=f"labkit-{self.agent.kernel.lab_id}-capture-")
        path = os.path.join(self.dir, f"{cid}-{ns}-{dev}.pcap")
        if self.python_capture:  # see capture_main below
            argv = [sys.executable, "-I", "-c", _capture_program(), "-i", dev, "-s", str(snaplen)]
        else:
            argv = ["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-B", str(buffer_kib), "-s", str(snaplen),
                    "-w", "-"]
            if os.geteuid() == 0:
                argv[1:1] = ["-Z", "root"]  # no uid change: keeps PR_SET_PDEATHSIG (see the module docstring)
        if count:
            argv += ["-c", str(int(count))]
        if check_filter(filter):
            argv += ["--", check_filter(filter)]  # after `--`: never an option, whatever it says
        out = open(path, "wb")  # noqa: SIM115 - owned by the capture until it is stopped
        try:
            proc = self.agent.popen(self.agent._argv(ns, argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.PIPE)
        except BaseException:
            out.close()
            os.unlink(path)
            raise
        cap = _Capture(cid, ns, dev, argv, path, proc, out)
        cap.params = (filter, snaplen, count, buffer_kib)
        self.running[cid] = cap
        return cap

    def ready(self, ids: list[str], timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until every capture in ``ids`` listens; a tcpdump that failed is removed and reported."""
        deadline = time.monotonic() + timeout
        caps = [self._get(cid) for cid in ids]
        for cap in caps:
            cap.listening.wait(max(0.0, deadline - time.monotonic()))
        if not self.python_capture and any("Couldn't change to" in cap.stderr for cap in caps):
            # a user namespace (rootless): tcpdump cannot change its user there; use the Python capture
            self.python_capture = True
            for i, cap in enumerate(caps):
                if not cap.link_type:
                    self._remove(cap)
                    caps[i] = self._launch(cap.id, cap.ns, cap.dev, *cap.params)
            deadline = time.monotonic() + timeout
            for cap in caps:
                cap.listening.wait(max(0.0, deadline - time.monotonic()))
        failed = [cap for cap in caps if not cap.link_type]
        if failed:
            for cap in caps:
                self.remove(cap.id)
            raise self._explain(failed[0], timeout)
        return [cap.info() for cap in caps]

    def read(self, id: str, offset: int = 0, max_bytes: int = 1 << 20) -> dict[str, Any]:
        """Up to ``max_bytes`` of the pcap file from ``offset``, base64-encoded."""
        cap = self._get(id)
        with open(cap.path, "rb") as fh:
            fh.seek(int(offset))
            data = fh.read(max(0, min(int(max_bytes), MAX_READ)))
        info = cap.info()
        info.update({"offset": int(offset), "data": base64.b64encode(data).decode("ascii"), "length": len(data),
                     "stats": cap.stats()})
        return info

    def stop(self, id: str, remove: bool = False, timeout: float = 5.0) -> dict[str, Any]:
        """Stop tcpdump with SIGINT (it then writes its counts) and return them.

        The file stays until ``remove`` (or the agent's cleanup), so the rest can still be read."""
        cap = self._get(id)
        if cap.proc.poll() is None:
            try:
                cap.proc.send_signal(signal.SIGINT)
                cap.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                cap.proc.kill()
                cap.proc.wait()
        cap.reader.join(timeout=2.0)
        if not cap.out.closed:
            cap.out.close()
        info = cap.info()
        info.update({"stats": cap.stats(), "stderr": cap.stderr[-2000:]})
        if remove:
            self._remove(cap)
        return info

    def remove(self, id: str) -> dict[str, Any]:
        """Stop a capture if needed and delete its file."""
        info = self.stop(id)
        self._remove(self.running[id])
        return info

    def list(self) -> list[dict[str, Any]]:
        return [cap.info() for cap in self.running.values()]

    def cleanup(self) -> None:
        for cid in list(self.running):
            try:
                self.remove(cid)
            except Exception:  # cleanup goes on
                continue
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""

    # -- helpers ------------------------------------------------------------------
    def _get(self, cid: str) -> _Capture:
        if cid not in self.running:
            raise NotFound(f"no capture {cid!r} in this lab", hint="it was stopped and removed already")
        return self.running[cid]

    def _remove(self, cap: _Capture) -> None:
        self.running.pop(cap.id, None)
        try:
            os.unlink(cap.path)
        except OSError:
            pass

    def _check_device(self, ns: str, dev: str) -> None:
        kernel = self.agent.kernel
        if not kernel.has_ns(ns):
            raise NotFound(f"namespace {ns!r} does not exist", where=f"lab {kernel.lab_id}",
                           hint=f"existing: {', '.join(kernel.labels())}")
        found = kernel.ipr(ns).link_lookup(ifname=dev)
        if found:
            link = kernel.ipr(ns).get_links(found[0])[0]
            if not link["flags"] & 1:  # IFF_UP: libpcap refuses a device that is administratively down
                where = "" if ns == "main" else f", ns={ns!r}"
                raise StepFailed(f"device {dev!r} is down, and tcpdump cannot capture on a device that is down",
                                 where=f"namespace {ns}", hint=f"bring it up first: lab.up({dev!r}{where})")
            return
        elsewhere = [label for label in kernel.labels() if label != ns and kernel.ipr(label).link_lookup(ifname=dev)]
        if elsewhere:
            raise WrongNamespace(f"device {dev!r} is not in namespace {ns!r} but in {', '.join(elsewhere)}",
                                 hint=f"capture it as '{elsewhere[0]}/{dev}'")
        raise NotFound(f"device {dev!r} does not exist", where=f"namespace {ns}",
                       hint="lab.snapshot() lists the devices; create it first")

    def _explain(self, cap: _Capture, timeout: float) -> Exception:
        text = cap.stderr.strip()
        where = f"namespace {cap.ns}, device {cap.dev}"
        if "not up" in text:
            return StepFailed(f"tcpdump cannot capture on {cap.dev!r}: the device is down", where=where,
                              hint="bring it up first with lab.up(...)")
        if "No such device" in text:
            return NotFound(f"tcpdump cannot find device {cap.dev!r}", where=where, hint=text.splitlines()[0])
        if "filter expression" in text or "syntax error" in text:
            return InvalidInput(f"tcpdump rejects the filter: {text.splitlines()[-1]}", where=where,
                                hint="use pcap-filter syntax, e.g. 'icmp or arp', 'udp port 4789', 'ether host …'")
        if "Couldn't change to" in text or "Operation not permitted" in text or "permission" in text.lower():
            return NoPrivileges(f"tcpdump cannot run here: {text.splitlines()[-1]}", where=where,
                                hint="captures need a root agent (sudo) or the VM target; this kernel's rootless mode "
                                     "cannot let tcpdump change its user")
        if cap.proc.poll() is None:
            return TargetError(f"tcpdump did not say 'listening on' within {timeout:g} s", where=where,
                               hint="the target is very busy; try again, or raise the timeout")
        return TargetError(f"tcpdump exited with {cap.proc.poll()}: {text[-300:] or 'no message'}", where=where,
                           hint="run the same tcpdump with lab.run(...) to see why")


def register(agent: Agent) -> None:
    """Add the capture requests to ``agent`` and stop every capture when it cleans up."""
    captures = Captures(agent)
    agent.handlers.update({
        "capture_start": captures.start, "capture_ready": captures.ready, "capture_read": captures.read,
        "capture_stop": captures.stop, "capture_remove": captures.remove, "capture_list": captures.list,
    })

    agent.cleanups.append(captures.cleanup)


# -- the rootless fallback: a small tcpdump in Python ------------------------------------------------
# In a user namespace (Binder's rootless mode) tcpdump opens the device but then fails to change its
# user ("Couldn't change to 'root'": setgroups is denied there). This program does what the agent
# needs of tcpdump with an AF_PACKET socket instead: the same "listening on" line, pcap on stdout
# flushed per packet, the kernel's own timestamps, the filter compiled by libpcap and run in the
# kernel, SIGINT to stop, and the same three counts at the end.

def _compile_filter(expression: str, dlt: int, snaplen: int) -> bytes:
    """The classic-BPF program of a pcap-filter ``expression``, as the kernel's sock_filter array."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    pcap = ctypes.CDLL(name)

    class BpfProgram(ctypes.Structure):
        _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]

    pcap.pcap_open_dead.restype = ctypes.c_void_p
    pcap.pcap_geterr.restype = ctypes.c_char_p
    handle = pcap.pcap_open_dead(dlt, snaplen)
    program = BpfProgram()
    if pcap.pcap_compile(ctypes.c_void_p(handle), ctypes.byref(program), expression.encode(), 1, 0xFFFFFFFF) != 0:
        raise SystemExit(f"tcpdump: {pcap.pcap_geterr(ctypes.c_void_p(handle)).decode()}")
    return ctypes.string_at(program.bf_insns, program.bf_len * 8)


def capture_main(argv: list[str] | None = None) -> int:
    """``labkit-capture -i DEV [-s SNAPLEN] [-c COUNT] [FILTER]``, run in the namespace as ``python -c``.

    Standard library only, imports inside: :func:`_capture_program` sends its source as the program."""
    import argparse
    import ctypes
    import signal
    import socket
    import struct
    import sys
    import threading
    import time

    parser = argparse.ArgumentParser(prog="labkit-capture")
    parser.add_argument("-i", dest="dev", required=True)
    parser.add_argument("-s", dest="snaplen", type=int, default=262144)
    parser.add_argument("-c", dest="count", type=int, default=0)
    parser.add_argument("filter", nargs="*")
    args = parser.parse_args(argv)
    ETH_P_ALL = 0x0003
    PACKET_OUTGOING = 4
    SO_ATTACH_FILTER = 26
    SO_TIMESTAMPNS = 35
    SO_RCVBUFFORCE = 33
    PACKET_ADD_MEMBERSHIP = 1
    PACKET_MR_PROMISC = 1
    PACKET_STATISTICS = 6
    SOL_PACKET = 263
    DLT_OF_ARPHRD = {1: (1, "EN10MB (Ethernet)"), 772: (1, "EN10MB (Ethernet)"), 65534: (101, "RAW (Raw IP)")}
    err, out = sys.stderr, sys.stdout.buffer
    try:
        with open(f"/sys/class/net/{args.dev}/type", encoding="ascii") as fh:
            arphrd = int(fh.read())
    except OSError:
        print(f"tcpdump: {args.dev}: No such device exists", file=err, flush=True)
        return 1
    if arphrd not in DLT_OF_ARPHRD:
        print(f"tcpdump: {args.dev}: device type {arphrd} is not supported by the rootless capture", file=err, flush=True)
        return 1
    dlt, dlt_name = DLT_OF_ARPHRD[arphrd]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    for option, value in ((SO_RCVBUFFORCE, BUFFER_KIB << 10), (socket.SO_RCVBUF, BUFFER_KIB << 10)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, value)
            break
        except OSError:
            continue
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if args.filter:
        try:
            code = _compile_filter(" ".join(args.filter), dlt, args.snaplen)
        except (OSError, SystemExit) as exc:
            print(str(exc) if isinstance(exc, SystemExit) else f"tcpdump: libpcap is missing: {exc}", file=err, flush=True)
            return 1
        insns = ctypes.create_string_buffer(code)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(code) // 8, ctypes.addressof(insns)))
    ifindex = socket.if_nametoindex(args.dev)
    sock.bind((args.dev, ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, args.snaplen, dlt))
    out.flush()
    print(f"labkit-capture: listening on {args.dev}, link-type {dlt_name}, snapshot length {args.snaplen} bytes",
          file=err, flush=True)
    sock.settimeout(0.1)
    captured, draining = 0, False
    cmsg_space = socket.CMSG_SPACE(16)
    while not (args.count and captured >= args.count):
        try:
            data, ancillary, _flags, address = sock.recvmsg(262144, cmsg_space)
        except (TimeoutError, BlockingIOError):
            if draining:
                break
            if stop.is_set():  # drain what the kernel already holds, then end
                draining = True
                sock.setblocking(False)
            continue
        except InterruptedError:
            continue
        if arphrd == 772 and address[2] == PACKET_OUTGOING:
            continue  # lo: every packet goes out and comes in; show it once, as tcpdump does
        stamp = time.time()
        for level, kind, cdata in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                stamp = sec + nsec / 1e9
        sec = int(stamp)
        usec = min(999_999, int((stamp - sec) * 1e6))
        kept = data[:args.snaplen]
        out.write(struct.pack("<IIII", sec, usec, len(kept), len(data)) + kept)
        out.flush()
        captured += 1
        if stop.is_set() and not draining:
            draining = True
            sock.setblocking(False)
    stats = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    tp_packets, tp_drops = struct.unpack("II", stats)
    print(f"{captured} packets captured\n{tp_packets} packets received by filter\n{tp_drops} packets dropped by kernel",
          file=err, flush=True)
    return 0


def _capture_program() -> str:
    """capture_main as a stand-alone program (standard library only: it starts in a few ms)."""
    import inspect

    return "\n".join(["import sys", f"BUFFER_KIB = {BUFFER_KIB}", inspect.getsource(_compile_filter),
                      inspect.getsource(capture_main), "raise SystemExit(capture_main(sys.argv[1:]))"])


if __name__ == "__main__":
    raise SystemExit(capture_main())
