"""The notebook each hub learner runs: a bridge lab with a capture, then a look at the other learner's lab.

Cell 1 builds, in the learner's own rootless lab, a bridge ``isobr0`` (10.77.0.1/24) with a
host ``h1`` (10.77.0.2) on a veth, pings h1 three times with a payload pattern only this
learner uses, captures on the bridge, saves the capture in ``~/labkit`` and writes what
it sees to ``~/labkit/facts.json``: its mode, lab id, agent PID, capture folder, the
devices and addresses of its lab, the patterns its capture holds, the namespaces its
agent lists, and the devices and addresses of the host namespace as this kernel sees
them. Both learners use the SAME names and addresses, so any sharing would show.

Cell 2 waits for ``~/labkit/peer.json`` (the test writes there the other learner's agent
PID, capture folder and saved pcap) and tries, from inside this kernel, to enter the
other's network namespace, list its capture folder and read its pcap; it writes the
outcome to ``~/labkit/peer-result.json``; then it waits for ``~/labkit/release.json``, so that
neither lab closes before the other learner has tried. Cell 3 closes the lab.
"""

from __future__ import annotations

import nbformat

CELL_BUILD = '''\
import glob, json, os, subprocess
from pathlib import Path
from labkit import Lab
from labkit.notebook import fact
from scapy.layers.inet import ICMP

PATTERN = f"{ord(os.environ['USER'][-1]):02x}"  # this learner's mark: every payload byte of its pings after the time stamp
lab = Lab(uplink=False)
lab.netns("h1")
lab.veth("isov0", "isov1", peer_ns="h1")
lab.bridge("isobr0", stp=False)
lab.enslave("isov0", "isobr0")
lab.addr("isobr0", "10.77.0.1/24"); lab.addr("isov1", "10.77.0.2/24", ns="h1")
lab.up("isov0", "isobr0"); lab.up("isov1", ns="h1")
with lab.capture("isobr0", filter="icmp") as cap:
    ping = lab.run("ping", "-c", "3", "-i", "0.2", "-p", PATTERN, "10.77.0.2")
home = Path.home() / "labkit"
saved = cap.save(str(home / "captures"))
snap = lab.snapshot()
marks = sorted({bytes(p[ICMP].payload)[-1:].hex() for p in cap.packets("isobr0") if p.haslayer(ICMP)})
host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
host_addrs = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True).stdout
facts = {
    "user": os.environ["USER"], "uid": os.getuid(), "pattern": PATTERN, "mode": lab.target.mode,
    "lab_id": lab.lab_id, "agent_pid": lab.target.agent_pid,
    "capture_dirs": glob.glob(f"/tmp/labkit-{lab.lab_id}-capture-*"), "saved": saved,
    "interfaces": sorted(f"{i.namespace}/{i.name}" for i in snap.interfaces),
    "addresses": sorted(a for i in snap.interfaces for a in i.addresses),
    "marks": marks, "icmp": [int(p[ICMP].type) for p in cap.packets("isobr0") if p.haslayer(ICMP)],
    "ping_ok": ping.ok,
    "lab_netns": lab.run("ip", "netns", "list").stdout.split(),
    "host_sees_iso": [line for line in host_links.splitlines() if "iso" in line],
    "host_sees_10_77": [line for line in host_addrs.splitlines() if "10.77." in line],
}
(home / "facts.json").write_text(json.dumps(facts))
fact(ping.ok and marks == [PATTERN], f"three pings of {os.environ['USER']} (mark {PATTERN}), and only its own in the capture", saw=marks)
lab.view(cap)
'''

CELL_PEER = '''\
import time
peer_file = Path.home() / "labkit" / "peer.json"
deadline = time.monotonic() + 480  # the test writes it once both labs are up (slow on a loaded machine)
while not peer_file.exists() and time.monotonic() < deadline:
    time.sleep(0.3)
peer = json.loads(peer_file.read_text())

def attempt(what, action):
    try:
        action()
        return f"{what}: ALLOWED"
    except OSError as exc:
        return f"{what}: refused ({type(exc).__name__}: {exc.strerror})"

results = [
    attempt("enter the other learner's network namespace", lambda: os.close(os.open(f"/proc/{peer['agent_pid']}/ns/net", os.O_RDONLY))),
    *[attempt("list the other learner's capture folder", lambda d=d: os.listdir(d)) for d in peer["capture_dirs"]],
    *[attempt("read the other learner's saved capture", lambda f=f: open(f, "rb").read(1)) for f in peer["saved"]],
]
(Path.home() / "labkit" / "peer-result.json").write_text(json.dumps(results))
print("\\n".join(results))
release = Path.home() / "labkit" / "release.json"  # the lab stays up until the other learner has tried too
while not release.exists() and time.monotonic() < deadline:
    time.sleep(0.3)
'''

CELL_CLOSE = "lab.close()\nprint('lab closed')"


def isolation_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (labkit)", "language": "python", "name": "labkit"}}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (CELL_BUILD, CELL_PEER, CELL_CLOSE)]
    return nb
