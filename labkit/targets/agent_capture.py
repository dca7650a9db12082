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
the agent falls back to :mod:`labkit.programs.pycapture`, a small tcpdump written in Python with
an AF_PACKET socket, which gives the same pcap, the same lines and the same counts.

*Bridge ports are captured "cooked"* (link type LINUX_SLL2): a port carries frames
between other hosts both ways, so its MAC cannot tell in from out, and that is the
STP and bridge lessons' whole point. The cooked header v2 records what the kernel
knows of each packet: its type (to this host, broadcast, multicast, to another host,
or outgoing) and the interface index. libpcap 1.10 (Debian 12) offers LINUX_SLL2 only
on the ``any`` pseudo-device (``tcpdump -L -i veth0`` lists EN10MB and DOCSIS), so a
port's tcpdump listens on ``any`` in the port's namespace, and the filter keeps that
one device: ``ifindex N and (FILTER)``, compiled by libpcap and run in the kernel. The
file stays a plain pcap that Wireshark opens (it shows "Linux cooked capture v2").
libpcap 1.10.3 compiles the ``stp`` keyword wrongly for a cooked header (it tests the
protocol field for 0x42, which no frame has: STP BPDUs are 802.3 frames, protocol
0x0004, whose LLC DSAP is 0x42), so :func:`cooked_filter` spells it out for ports.

Why not every device: the cooked header keeps the sender's MAC but drops the
destination's, ``any`` does not make the device promiscuous (a real NIC then misses
frames for other MACs), and the command shown departs from the ``tcpdump -i veth1``
a learner types. Off a bridge the MAC already tells the direction (a frame from the
device's own MAC went out), so other devices keep the Ethernet header. (A raw-IP
device such as a tun would gain a direction from it too; it keeps RAW for now.)

Requests (all JSON-plain)::

    capture_start(ns, dev, filter="", snaplen=262144, count=None, wait=True) → {id, pid, ...}
    capture_ready(ids, timeout=5)        wait until each tcpdump says "listening on"
    capture_read(id, offset=0, max_bytes=1 MiB) → {data: base64, offset, size, running, ...}
    capture_stop(id, remove=True)         SIGINT → {captured, received, dropped, ...}
    capture_follow(ids, interval=0.02)    events {id, offset, data, at} with each capture's new bytes
    capture_clock()                       the target's time.time(), the clock of its pcap timestamps
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Any

from ..errors import InvalidInput, MissingTool, NoPrivileges, NotFound, StepFailed, TargetError, WrongNamespace
from ..i18n import tr
from ..names import check_filter, check_ifname
from ..programs.pycapture import BUFFER_KIB
from .agent import Agent
from .agent_api import Call, Handler, concurrent, exclusive
from .texts import api

STP_WORD = re.compile(r"(?<![\w.:-])stp(?![\w.:-])")
STP_COOKED = "(link[0:2] = 0x0004 and link[20] = 0x42)"  # an 802.3 frame whose LLC DSAP is STP's
LISTENING = re.compile(r"listening on (\S+), link-type (\S+)")
STATS = {"captured": re.compile(r"(\d+) packets? captured"),
         "received": re.compile(r"(\d+) packets? received by filter"),
         "dropped": re.compile(r"(\d+) packets? dropped by kernel")}
MAX_READ = 4 << 20


def cooked_filter(expression: str) -> str:
    """``expression`` as a LINUX_SLL2 filter: the ``stp`` keyword spelled out (see the module docstring)."""
    return STP_WORD.sub(STP_COOKED, expression)


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
        self.listening_at: float | None = None  # this machine's clock, the one the packets are stamped with
        self.stop_requested: float | None = None
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
                self.listening_at = time.time()
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
                "size": _size(self.path), "listening_at": self.listening_at, "stop_requested": self.stop_requested}


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
            raise MissingTool(tr("tcpdump is not installed on the target, so nothing can be captured"),
                              where=tr("lab {lab_id}", lab_id=self.agent.kernel.lab_id), hint=tr("apt-get install tcpdump"))
        check_ifname(dev)
        filter = check_filter(filter)
        if not 0 < int(snaplen) <= 262144:
            raise InvalidInput(tr("snaplen {snaplen} is out of range", snaplen=snaplen),
                               hint=tr("use 1..262144 bytes (0 is not allowed here)"))
        ifindex, port = self._check_device(ns, dev)
        self._next += 1
        cap = self._launch(f"c{self._next}", ns, dev, filter, int(snaplen), count, int(buffer_kib),
                           ifindex if port else 0)
        if wait:
            self.ready([cap.id], timeout)
        return cap.info()

    def _launch(self, cid: str, ns: str, dev: str, filter: str, snaplen: int, count: int | None,
                buffer_kib: int, cooked_ifindex: int = 0) -> _Capture:
        """Start one capture; ``cooked_ifindex`` (a bridge port's index): LINUX_SLL2, see the module docstring."""
        if not self.dir or not os.path.isdir(self.dir):
            self.dir = tempfile.mkdtemp(prefix=f"labkit-{self.agent.kernel.lab_id}-capture-")
        path = os.path.join(self.dir, f"{cid}-{ns}-{dev}.pcap")
        filter = params_filter = check_filter(filter)
        if cooked_ifindex:
            filter = cooked_filter(filter)
        if self.python_capture:  # labkit.programs.pycapture: it binds to the device itself, no ifindex needed
            where = self.agent.python()  # shown as it runs, as lab.program() runs labkit's other small programs
            argv = ["env", f"PYTHONPATH={where['path']}", where["executable"], "-u", "-m", "labkit.programs.pycapture",
                    "-i", dev, "-s", str(snaplen)]
            if cooked_ifindex:
                argv += ["-y", "LINUX_SLL2"]
        else:
            argv = ["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-B", str(buffer_kib), "-s", str(snaplen),
                    "-w", "-"]
            if cooked_ifindex:
                argv[1:3] = ["-i", "any", "-y", "LINUX_SLL2"]
                filter = f"ifindex {int(cooked_ifindex)}" + (f" and ({filter})" if filter else "")
            if os.geteuid() == 0:
                argv[1:1] = ["-Z", "root"]  # no uid change: keeps PR_SET_PDEATHSIG (see the module docstring)
        if count:
            argv += ["-c", str(int(count))]
        if filter:
            argv += ["--", filter]  # after `--`: never an option, whatever it says
        out = open(path, "wb")  # noqa: SIM115 - owned by the capture until it is stopped
        try:
            proc = self.agent.popen(self.agent._argv(ns, argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.PIPE)
        except BaseException:
            out.close()
            os.unlink(path)
            raise
        cap = _Capture(cid, ns, dev, argv, path, proc, out)
        cap.params = (params_filter, snaplen, count, buffer_kib, cooked_ifindex)
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
        """Stop tcpdump with SIGINT (it then writes its counts) and return them, with ``stop_requested``:
        this machine's time when it was asked to stop (None if it had ended by itself, e.g. ``count``).

        The file stays until ``remove`` (or the agent's cleanup), so the rest can still be read."""
        cap = self._get(id)
        if cap.proc.poll() is None:
            if cap.stop_requested is None:
                cap.stop_requested = time.time()
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
            raise NotFound(tr("no capture {cid!r} in this lab", cid=cid), hint=tr("it was stopped and removed already"))
        return self.running[cid]

    def _remove(self, cap: _Capture) -> None:
        self.running.pop(cap.id, None)
        try:
            os.unlink(cap.path)
        except OSError:
            pass

    def _check_device(self, ns: str, dev: str) -> tuple[int, bool]:
        """The device's index, and whether it is a bridge port; errors say why it cannot be captured."""
        kernel = self.agent.kernel
        if not kernel.has_ns(ns):
            raise NotFound(tr("namespace {ns!r} does not exist", ns=ns), where=tr("lab {lab_id}", lab_id=kernel.lab_id),
                           hint=tr("existing: {names}", names=", ".join(kernel.labels())))
        found = kernel.ipr(ns).link_lookup(ifname=dev)
        if found:
            link = kernel.ipr(ns).get_links(found[0])[0]
            if not link["flags"] & 1:  # IFF_UP: libpcap refuses a device that is administratively down
                where = {} if ns == "main" else {"ns": ns}
                raise StepFailed(tr("device {dev!r} is down, and tcpdump cannot capture on a device that is down", dev=dev),
                                 where=tr("namespace {ns}", ns=ns),
                                 hint=tr("bring it up first: {call}", call=api("lab.up", dev, **where)))
            return int(found[0]), link.get_nested("IFLA_LINKINFO", "IFLA_INFO_SLAVE_KIND") == "bridge"
        elsewhere = [label for label in kernel.labels() if label != ns and kernel.ipr(label).link_lookup(ifname=dev)]
        if elsewhere:
            raise WrongNamespace(tr("device {dev!r} is not in namespace {ns!r} but in {elsewhere}",
                                    dev=dev, ns=ns, elsewhere=", ".join(elsewhere)),
                                 hint=tr("capture it as {ref}", ref=repr(elsewhere[0] + "/" + dev)))
        raise NotFound(tr("device {dev!r} does not exist", dev=dev), where=tr("namespace {ns}", ns=ns),
                       hint=tr("lab.snapshot() lists the devices; create it first"))

    def _explain(self, cap: _Capture, timeout: float) -> Exception:
        text = cap.stderr.strip()
        where = tr("namespace {ns}, device {dev}", ns=cap.ns, dev=cap.dev)
        if "not up" in text:
            return StepFailed(tr("tcpdump cannot capture on {dev!r}: the device is down", dev=cap.dev), where=where,
                              hint=tr("bring it up first with lab.up(...)"))
        if "No such device" in text:
            return NotFound(tr("tcpdump cannot find device {dev!r}", dev=cap.dev), where=where, hint=text.splitlines()[0])
        if "filter expression" in text or "syntax error" in text:
            return InvalidInput(tr("tcpdump rejects the filter: {reason}", reason=text.splitlines()[-1]), where=where,
                                hint=tr("use pcap-filter syntax, e.g. 'icmp or arp', 'udp port 4789', 'ether host …'"))
        if "Couldn't change to" in text or "Operation not permitted" in text or "permission" in text.lower():
            return NoPrivileges(tr("tcpdump cannot run here: {reason}", reason=text.splitlines()[-1]), where=where,
                                hint=tr("captures need a root agent (sudo) or the VM target; this kernel's rootless mode "
                                        "cannot let tcpdump change its user"))
        if cap.proc.poll() is None:
            return TargetError(tr("tcpdump did not say 'listening on' within {timeout:g} s", timeout=timeout), where=where,
                               hint=tr("the target is very busy; try again, or raise the timeout"))
        said = text[-300:] if text else tr("no message")
        return TargetError(tr("tcpdump exited with {code}: {said}", code=cap.proc.poll(), said=said), where=where,
                           hint=tr("run the same tcpdump with lab.run(...) to see why"))


class CaptureExtension(Captures):
    """The capture requests as an agent extension; ``capture_follow`` streams while traffic runs."""

    def handlers(self) -> dict[str, Handler]:
        return {"capture_start": exclusive(self.start), "capture_ready": exclusive(self.ready),
                "capture_read": exclusive(self.read), "capture_stop": exclusive(self.stop),
                "capture_remove": exclusive(self.remove), "capture_list": exclusive(self.list),
                "capture_follow": concurrent(self.follow), "capture_clock": concurrent(self.clock)}

    def clock(self, call: Call) -> float:
        """The target's wall clock, the one of pcap timestamps (a VM's differs from the notebook's)."""
        return time.time()

    def follow(self, call: Call, ids: list[str], interval: float = 0.02) -> dict[str, Any]:
        """Push each capture's new pcap bytes as events until all have stopped and been read.

        tcpdump writes every packet at once (``-U --immediate-mode``), so a packet on the wire
        reaches the notebook within about ``interval`` seconds, batched when they come fast."""
        caps = [self.agent.on_kernel(self._get, cid) for cid in ids]
        offsets = {cap.id: 0 for cap in caps}
        handles = {cap.id: open(cap.path, "rb") for cap in caps}  # noqa: SIM115 - closed below
        try:
            while True:
                sent = False
                for cap in caps:
                    data = handles[cap.id].read(MAX_READ)
                    if data:
                        call.emit({"id": cap.id, "offset": offsets[cap.id], "data": base64.b64encode(data).decode("ascii"),
                                   "at": time.time()})  # the target's clock: when the bytes left (for benches)
                        offsets[cap.id] += len(data)
                        sent = True
                if not sent and all(cap.proc.poll() is not None and cap.reader.is_alive() is False for cap in caps):
                    return {"ended": True, "offsets": offsets}
                call.sleep(0.0 if sent else float(interval))
        finally:
            for handle in handles.values():
                handle.close()


EXTENSION = CaptureExtension

