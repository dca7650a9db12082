# %% [markdown]
# # 06 · STP: a loop of three bridges, a broadcast storm, and the spanning tree that stops it
#
# The article *linux虚拟网络* ("Linux virtual networking") draws three switches wired in a triangle and says what goes wrong: PC1 sends one
# ARP request, every switch floods it out of every other port, and the copies go round the
# loop **for ever**. Here the three switches are three Linux bridges, each in its own namespace
# (`sw1`, `sw2`, `sw3`), joined by veth cables. You will:
#
# 1. close the loop with STP **off**, send a single ARP request, and watch the packet counters
#    of every cable climb by thousands in one second (the lab then cuts the loop for you);
# 2. turn the kernel's **STP** on, watch the bridges elect a root by bridge id, choose root and
#    designated ports, and put exactly one port into **blocking** (dashed red in the picture);
# 3. cut a cable and time how long the tree takes to heal;
# 4. in the exercise, make `sw3` the root and predict which port blocks then.
#
# STP timers are set to the kernel's minimum (`forward_delay` 2 s), so each change settles in
# about 4 s instead of the 30 s of the defaults.
#
# **Fell behind?** Lines `checkpoint(lab, "06-stp", …)` mark the points you can jump to: on a fresh
# kernel, run the first cell, then `lab = restore("06-stp", "step-5")` (or `"step-7"`, `"exercise"`)
# rebuilds the three switches as they stand there, and you continue with that step.

# %%
import time

from IPython.display import display

from labkit.notebook import checkpoint, checks, fact, fresh_lab, restore  # restore: to jump to a checkpoint

lab = fresh_lab(uplink=False)   # no simulated LAN, only the three switches; a previous run's lab is closed first
SWITCHES = ("sw1", "sw2", "sw3")
BRIDGES = [f"{sw}/br0" for sw in SWITCHES]


def veth_counters(snap):
    """tx_packets of every cable end, read from the kernel's own counters."""
    return {itf.key: itf.counter("tx_packets") for itf in snap.interfaces if itf.kind == "veth"}


#: one ARP request "who has 10.0.0.99? tell 10.0.0.1", written by hand to br0 of sw1: exactly one frame
ONE_ARP = """
import socket, struct, sys
mac = bytes.fromhex(sys.argv[1].replace(":", ""))
arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton("10.0.0.1") + bytes(6) + socket.inet_aton("10.0.0.99")
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
    s.bind(("br0", 0))
    s.send(b"\\xff" * 6 + mac + b"\\x08\\x06" + arp)
print("sent one frame: ARP, who has 10.0.0.99? tell 10.0.0.1, to ff:ff:ff:ff:ff:ff")
"""


def wait_forwarding(port, ns, timeout=10.0):
    """Wait until the bridge port ns/port forwards (a bridge notices a new carrier up to a second late)."""
    deadline = time.monotonic() + timeout
    while (state := lab.snapshot().interface(port, ns).stp_state) != "forwarding" and time.monotonic() < deadline:
        time.sleep(0.1)
    return state


def stp_table():
    """Each bridge's STP view, as the kernel reports it: bridge id, root, root port, and each port's state and cost."""
    snap = lab.snapshot()
    for sw in SWITCHES:
        br = snap.interface("br0", sw)
        own, root = br.detail("bridge_id"), br.detail("root_id")
        role = "ROOT BRIDGE" if own == root else f"root port no. {br.detail('root_port')}, cost to root {br.detail('root_path_cost')}"
        print(f"{sw}: priority {br.detail('priority'):>5}, MAC {br.mac}: {role}")
        for port in snap.ports_of("br0", sw):
            print(f"    port {port.detail('port_no')} {port.name:<7} {port.stp_state:<11} cost {port.detail('port_cost')}")


def print_events(result):
    """The port-state changes lab.wait_stp() saw, with their times."""
    print(f"settled: {result['converged']} after {result['elapsed']:.1f} s")
    for event in result["events"]:
        print(f"  {event['t']:5.2f} s  {event['port']:<12} {event['state']}")


lab.view(title="A fresh lab: only the empty main namespace")

# %% [markdown]
# ## Step 1: three switches
#
# Each switch is a namespace with one bridge `br0`, STP **off** (the default for a Linux bridge).
# IPv6 is switched off in these namespaces so that nothing crosses the cables except what we
# send: a device that comes up with IPv6 announces itself with multicast packets, and in a loop
# any such packet would start the storm before we are ready to watch it. (IPv4 has one such
# packet too: a bridge that comes up sends an IGMP report. That is why the loop is closed only
# in step 4, once those reports are long gone.)

# %%
for sw in SWITCHES:
    lab.netns(sw)
    lab.sysctl("net.ipv6.conf.all.disable_ipv6", 1, ns=sw)
    lab.sysctl("net.ipv6.conf.default.disable_ipv6", 1, ns=sw)
    lab.bridge("br0", stp=False, ns=sw)
lab.view(title="Step 1: three bridges, not yet connected")

# %% [markdown]
# ## Step 2: cable them in a chain
#
# A veth pair is the cable; each end becomes a port of its switch's bridge. Ports are named
# after the switch they lead to: `sw1/to-sw2` is sw1's port towards sw2. `sw1`'s bridge also gets
# an address, `10.0.0.1/24`, like a switch's management address: it lets `sw1` itself send an ARP
# request into the network.

# %%
def cable(a, b):
    """A veth cable between switch a and switch b, each end a port of that switch's br0."""
    lab.veth(f"to-{b}", f"to-{a}", ns=a, peer_ns=b)
    lab.enslave(f"to-{b}", "br0", ns=a)
    lab.enslave(f"to-{a}", "br0", ns=b)


cable("sw1", "sw2")
cable("sw2", "sw3")
lab.up("br0", "to-sw2", ns="sw1")
lab.up("br0", "to-sw1", "to-sw3", ns="sw2")
lab.up("br0", "to-sw2", ns="sw3")
lab.addr("br0", "10.0.0.1/24", ns="sw1")
lab.view(title="Step 2: sw1 — sw2 — sw3, a chain (no loop yet)")

# %% [markdown]
# ## Step 3: the third cable, still unplugged at one end
#
# The cable `sw3 ⇄ sw1` is added and its `sw3` end brought up, but its `sw1` end stays **down**:
# the loop is drawn, yet open. The next step plugs it in.

# %%
cable("sw3", "sw1")
lab.up("to-sw1", ns="sw3")
lab.view(title="Step 3: the loop is wired but sw1/to-sw3 is down")

# %% [markdown]
# ## Step 4: close the loop, send ONE broadcast, watch the storm
#
# This cell
#
# 1. brings `sw1/to-sw3` up and waits until that port forwards: the loop is closed, and with
#    nobody sending, nothing happens yet;
# 2. writes **exactly one** frame into `sw1`'s bridge: an ARP request "who has 10.0.0.99?" (an
#    address nobody has) to the broadcast MAC `ff:ff:ff:ff:ff:ff`, the first thing a ping to
#    10.0.0.99 would send (a ping would repeat it every second; we want one);
# 3. captures 10 frames on `sw2/to-sw3`, then reads every cable's `tx_packets` counter for 1.5 s;
# 4. **always** brings `sw1/to-sw3` down again at the end (`finally`), so the storm is bounded.
#
# It also records where `sw2` believes `sw1`'s MAC address is: a bridge learns a source MAC on
# the port a frame came in on, and in a loop the same frame comes in on both ports, in turn.

# %%
sw1_mac = lab.snapshot().interface("br0", "sw1").mac
start = veth_counters(lab.snapshot())
samples = []
lab.up("to-sw3", ns="sw1")  # the loop is closed
try:
    fact(wait_forwarding("to-sw3", "sw1") == "forwarding", "sw1/to-sw3 forwards: the loop is closed")
    with lab.capture("sw2/to-sw3", filter="arp", count=10) as cap:
        sent = lab.run(*lab.python("-c", ONE_ARP, sw1_mac), ns="sw1", check=True)  # exactly one frame
    t0 = time.monotonic()
    # read the counters for 1.5 s, at least three times (a storm keeps both CPUs busy, so a reading can take long)
    while (time.monotonic() - t0 < 1.5 or len(samples) < 3) and time.monotonic() - t0 < 20:
        snap = lab.snapshot()
        learned = [e.port for e in snap.fdb if e.namespace == "sw2" and e.mac == sw1_mac]
        samples.append((time.monotonic() - t0, veth_counters(snap), ", ".join(learned)))  # empty: on no port at that moment
        time.sleep(0.2)
finally:
    lab.down("to-sw3", ns="sw1")  # cut the loop, whatever happened above
display(sent)

ports = sorted(start)
print("tx_packets per cable end, as the kernel counts them:")
print(f"{'':>8} " + " ".join(f"{p:>11}" for p in ports) + "   sw2 has sw1's MAC on")
print("  before " + " ".join(f"{start[p]:>11}" for p in ports))
for t, counts, learned in samples:
    on_port = learned or "(moving)"
    print(f"{f'+{t:.2f} s':>8} " + " ".join(f"{counts[p]:>11}" for p in ports) + f"   {on_port}")
from scapy.layers.l2 import ARP

copies = {(p[ARP].op, p[ARP].psrc, p[ARP].pdst) for p in cap.packets("sw2/to-sw3") if p.haslayer(ARP)}
grown = {p: samples[-1][1][p] - start[p] for p in ports}
fact(len(cap.frames("sw2/to-sw3")) == 10 and copies == {(1, "10.0.0.1", "10.0.0.99")},
     "the ten captured frames are all the same ARP request, who has 10.0.0.99? tell 10.0.0.1", saw=copies)
fact(min(grown.values()) >= 1000, "one frame became thousands on every cable end within seconds", saw=grown)
places = {learned for _, _, learned in samples} - {""}
on = ", ".join(sorted(places)) or "no port at the moments we looked"
print(f"in this run sw2 had sw1's MAC on: {on}"
      + (" (it flapped between them)" if len(places) > 1 else " (the readings, 0.2 s apart, happened to catch one side only)"))
print("tcpdump on sw2/to-sw3:", cap.stats()["sw2/to-sw3"])
lab.view(cap, title="Step 4: one ARP request, circulating for ever")

# %% [markdown]
# What you see:
#
# - The ten captured frames are **the same ARP request** (same sender, same target), copies of the
#   single one `sw1` sent. Ethernet has no hop limit: unlike IP's TTL, nothing in the frame wears out.
# - Each bridge floods a broadcast out of every port except the one it came in on. In a triangle
#   that makes two copies, one going clockwise and one anticlockwise, each going round for ever,
#   as fast as the CPU can forward them: thousands to tens of thousands of frames per second on
#   every cable, depending on how busy the machine is.
#   With more ports in the loop, every round would also **multiply** the copies.
# - `sw2` learns `sw1`'s MAC first on one port, then on the other (the *MAC flapping* a real
#   switch logs), so even unicast frames towards `sw1` would go the wrong way half of the time.
#   The cell printed where it saw the entry at each reading; readings 0.2 s apart may by chance
#   all catch the same side.
# - tcpdump's own line says it *received* far more than the 10 frames it kept, and that the
#   kernel *dropped* many "for tcpdump": the storm filled the buffer between the kernel and
#   tcpdump faster than tcpdump could read it. Those drops are frames tcpdump never saw, not
#   frames lost on the cable; the cables' counters above are the true measure of the storm.
#
# The cell cut the loop at the end. Check that the storm has really stopped: two readings one second apart.

# %%
first = veth_counters(lab.snapshot())
time.sleep(1)
second = veth_counters(lab.snapshot())
for port in sorted(first):
    print(f"{port:<12} {first[port]:>8} → {second[port]:>8}   (+{second[port] - first[port]})")
fact(all(second[p] - first[p] < 10 for p in first), "the storm stopped once the loop was cut",
     saw={p: second[p] - first[p] for p in first})

# %% [markdown]
# ## Step 5: turn STP on, with priorities, and close the loop again
#
# With STP on, the bridges send each other **BPDUs** (bridge protocol data units) every
# `hello_time` (2 s) and build a tree out of the loop:
#
# 1. **Root bridge**: the one with the lowest *bridge id* = priority (default 32768) followed by its
#    MAC address. We give `sw1` priority 4096 and `sw2` 8192; `sw3` keeps 32768, so `sw1` wins.
# 2. **Root port**: on every other bridge, the port with the cheapest path to the root
#    (here each cable costs 2, the kernel's cost for a 10 Gbit/s veth).
# 3. **Designated port**: on each cable, the end that offers the cheaper path to the root
#    (on a tie, the bridge with the lower id). It forwards.
# 4. Every other port **blocks**: it still receives BPDUs, but forwards nothing.
#
# A new port listens for `forward_delay`, then learns MACs for `forward_delay`, and only then
# forwards. `lab.wait_stp` watches the ports' states and times every change.

# %%
checkpoint(lab, "06-stp", "step-5")  # a point to jump to: restore("06-stp", "step-5")
lab.stp("br0", forward_delay=2, priority=4096, ns="sw1")
lab.stp("br0", forward_delay=2, priority=8192, ns="sw2")
lab.stp("br0", forward_delay=2, ns="sw3")
lab.up("to-sw3", ns="sw1")  # the loop is closed again, this time with STP on
result = lab.wait_stp(*BRIDGES, timeout=30)
print_events(result)
lab.view(title="Step 5: STP on: sw1 is root, one port blocks (dashed red)")

# %% [markdown]
# The kernel's own view of the tree, read from each bridge: its priority and MAC (together its
# bridge id), whether it is the root, and if not, which port leads to the root (ports are numbered
# in the order they joined) and the path cost to the root; then each port's state and cost.

# %%
stp_table()
checks(lab.check.root_bridge("sw1/br0"), lab.check.port_state("sw3/to-sw2", "blocking"),
       lab.check.port_state("sw2/to-sw3", "forwarding"))

# %% [markdown]
# `sw1` is the root, so both its ports are designated and forward. `sw2` and `sw3` each reach the
# root through their port towards `sw1` (their root port). On the cable `sw2 ⇄ sw3` both ends offer
# the same cost to the root (2: one cable), so the tie goes to the lower bridge id, `sw2`
# (8192 < 32768): `sw2/to-sw3` is designated and **`sw3/to-sw2` blocks**.
#
# ## Step 6: the same single broadcast, now harmless
#
# Send the same single ARP request and capture it on two cables for 1.5 s. Each cable carries it
# once; the blocking port drops what it receives.

# %%
sw1_mac = lab.snapshot().interface("br0", "sw1").mac  # as in step 4 (read again, in case you jumped to step 5)
before = veth_counters(lab.snapshot())
with lab.capture("sw2/to-sw3", "sw3/to-sw1", filter="arp", duration=1.5) as cap:
    display(lab.run(*lab.python("-c", ONE_ARP, sw1_mac), ns="sw1", check=True))
after = veth_counters(lab.snapshot())
print({port: after[port] - before[port] for port in sorted(before)}, "frames sent per cable end (BPDUs included)")
fact(cap.counts() == {"sw2/to-sw3": 1, "sw3/to-sw1": 1}, "no storm: each cable carried the ARP request once",
     saw=cap.counts())
lab.view(cap, title="Step 6: one ARP request crosses each cable once")

# %% [markdown]
# The blocking port is not deaf. Capture on `sw3/to-sw2` for a little over one hello time: the
# BPDUs that `sw2` sends there every 2 s are how `sw3` knows the path through `sw2` still exists,
# and would take it over if its root port failed.

# %%
with lab.capture("sw3/to-sw2", filter="stp", duration=2.5) as cap:
    pass
fact(cap.counts()["sw3/to-sw2"] >= 1, "BPDUs keep arriving on the blocking port", saw=cap.counts())
lab.view(cap, title="Step 6b: BPDUs keep arriving on the blocking port")

# %% [markdown]
# ## Step 7: cut a cable, time the healing
#
# Bring down `sw1/to-sw3`. Because a veth's two ends share their carrier, `sw3` sees its root port
# go down at once. Its blocking port `to-sw2` is now its best way to the root, so it has to pass
# through *listening* and *learning* before it forwards: 2 × `forward_delay` ≈ 4 s without
# connectivity between `sw3` and the rest.
#
# With the default timers that is 2 × 15 s = 30 s; and when a failure is *not* seen as a link
# down (a dead switch behind a working cable), a bridge first waits `max_age` (20 s) for BPDUs
# that no longer come: up to 50 s. That is why networks moved to RSTP, which Linux's kernel STP
# does not do (user-space daemons such as `mstpd` do).

# %%
checkpoint(lab, "06-stp", "step-7")  # a point to jump to: restore("06-stp", "step-7")
lab.down("to-sw3", ns="sw1")
result = lab.wait_stp(*BRIDGES, timeout=60, min_time=2)  # min_time: the news of a lost carrier takes up to 1 s to reach the bridge
print_events(result)
lab.view(title="Step 7: the sw1 — sw3 cable is cut; sw3 now reaches the root through sw2")

# %%
stp_table()
checks(lab.check.port_state("sw3/to-sw2", "forwarding"))

# %% [markdown]
# Plug the cable back in: `sw3/to-sw1` is the better root port again, and `sw3/to-sw2` returns to blocking.

# %%
lab.up("to-sw3", ns="sw1")
result = lab.wait_stp(*BRIDGES, timeout=60, min_time=2)
print_events(result)
checks(lab.check.port_state("sw3/to-sw2", "blocking"), lab.check.port_state("sw3/to-sw1", "forwarding"))
checkpoint(lab, "06-stp", "exercise")  # a point to jump to, before the exercise: restore("06-stp", "exercise")
lab.view(title="Step 7b: the cable is back, the tree is as before")

# %% [markdown]
# ## Exercise: make `sw3` the root bridge
#
# 1. Change one bridge's STP priority so that `sw3/br0` becomes the root
#    (`lab.stp("br0", priority=..., ns=...)`; remember: lowest bridge id wins).
# 2. Before you look at the picture, **predict** which port will block afterwards and write it
#    in `blocked` as `"namespace/port"`. Hint: the blocking port sits on the one cable that does
#    not touch the root, at the end of the bridge with the higher bridge id.
#
# The cell below holds one solution. Try your own first, then run the check.

# %% tags=["solution"]
# Solution: any priority below sw1's 4096 makes sw3 the root.
lab.stp("br0", priority=0, ns="sw3")
blocked = "sw2/to-sw1"   # cable sw1 ⇄ sw2: sw1 (4096) beats sw2 (8192), so sw2's end blocks
print_events(lab.wait_stp(*BRIDGES, timeout=60, min_time=1))
lab.view(title="Exercise: sw3 is the root")

# %% tags=["wrong"]
lab.stp("br0", priority=16384, ns="sw3")  # a wrong attempt: lower than the default, but not lower than sw1's 4096
blocked = "sw2/to-sw1"
print_events(lab.wait_stp(*BRIDGES, timeout=60, min_time=1))
lab.view(title="Exercise: is sw3 the root?")

# %% tags=["check"]
# The check: reads the kernel's STP state (it waits for the tree to settle first).
lab.wait_stp(*BRIDGES, timeout=30)
checks(lab.check.root_bridge("sw3/br0"),
       lab.check.port_state(blocked, "blocking",
                            hint="on the cable between sw1 and sw2, which end belongs to the bridge with the higher id?"))

# %%
lab.close()   # removes the three switches and every cable
