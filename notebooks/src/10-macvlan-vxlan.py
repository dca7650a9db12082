# %% [markdown]
# # 10 · macvlan beside a bridge, and a VXLAN overlay with its 50 bytes
#
# Two ways the article *Linux 中的虚拟网络接口* ("virtual network interfaces in Linux") gives
# containers a network without a veth-and-bridge pair:
#
# **Part A: macvlan.** Extra devices stacked on the host's NIC, each with its **own MAC address**,
# sitting directly on the LAN like separate machines. In *bridge* mode the children also reach each
# other inside the kernel. What the article does not say, and every macvlan user meets: a child can
# **not** talk to its own parent, the host.
#
# **Part B: VXLAN.** An overlay: Ethernet frames of one network carried inside UDP packets of
# another (the *underlay*). You will see the UDP packets on the underlay with the whole inner
# frame inside, count the 50 bytes each one costs, and meet the consequence: the overlay's
# MTU is 1450, so a full-size 1500-byte packet does not fit.

# %%
from IPython.display import display
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP
from scapy.layers.vxlan import VXLAN

from labkit.errors import LabkitError
from labkit.notebook import checks, fact, fresh_lab, seen

lab = fresh_lab()  # main = the host, its eth0 = 192.168.3.10 on a simulated LAN (upstream, gateway 192.168.3.1)
lab.view(title="The host (main) on its LAN (upstream)")

# %% [markdown]
# ## Part A · Step 1: two macvlan "containers" on the host's eth0
#
# `ip link add mv-m1 link eth0 type macvlan mode bridge` makes a child of `eth0`; moving it into a
# namespace turns that namespace into a container that sits **on the LAN itself**: its address
# `192.168.3.21` is in the LAN's own subnet, no bridge, no NAT, no veth.

# %%
for name, address in (("m1", "192.168.3.21/24"), ("m2", "192.168.3.22/24")):
    lab.netns(name)
    lab.macvlan(f"mv-{name}", "eth0", mode="bridge")
    lab.move(f"mv-{name}", name)
    lab.addr(f"mv-{name}", address, ns=name)
    lab.up(f"mv-{name}", ns=name)
lab.view(title="Part A · Step 1: mv-m1 and mv-m2, children of main/eth0")

# %% [markdown]
# ## Part A · Step 2: who reaches whom
#
# Ping four ways, while capturing on the LAN switch's port that faces the host's wire
# (`upstream/port-main`): what appears there really left the host.

# %%
answers = {}
with lab.capture("upstream/port-main", filter="icmp", duration=4) as cap:
    for src, dst, what in (("m1", "192.168.3.22", "m1 → m2 (sibling)"),
                           ("m1", "192.168.3.1", "m1 → LAN gateway"),
                           ("m1", "192.168.3.10", "m1 → host (parent)"),
                           ("main", "192.168.3.21", "host → m1")):
        answers[what] = lab.ping(dst, ns=src)
        print(f"{what:<20}", "answers" if answers[what] else "NO ANSWER")
snap = lab.snapshot()
m1_mac = snap.interface("mv-m1", "m1").mac
# port-main is a port of the LAN switch: captured with the kernel's cooked header, which keeps the sender's MAC
wire = [(f.src_mac, f.packet[IP].src, f.packet[IP].dst) for f in cap.frames("upstream/port-main")]
unresolved = {f"{n.namespace} asks for {n.ip}": n.state for n in snap.neighbours
              if (n.namespace, n.ip) in {("m1", "192.168.3.10"), ("main", "192.168.3.21")} and not n.mac}
fact(answers["m1 → m2 (sibling)"] and answers["m1 → LAN gateway"], "m1 → m2 answers, m1 → gateway answers", saw=answers)
fact(not answers["m1 → host (parent)"] and not answers["host → m1"], "m1 ⇄ host fails both ways", saw=answers)
fact(len(unresolved) == 2, "neither ARP question between m1 and the host was answered", saw=snap.neighbours)
fact(set(seen(cap, "upstream/port-main")) == {"echo-request", "echo-reply"}
     and {(s, d) for _, s, d in wire} == {("192.168.3.21", "192.168.3.1"), ("192.168.3.1", "192.168.3.21")}
     and all(mac == m1_mac for mac, s, _ in wire if s == "192.168.3.21"),
     "the wire holds only the m1 ⇄ gateway exchange, m1's frames sent from mv-m1's own MAC", saw=wire)
lab.view(cap, title="Part A · Step 2: only m1 ⇄ gateway crossed the wire")

# %% [markdown]
# - **m1 → m2** works and never touches the wire: in bridge mode the macvlan driver switches
#   frames between siblings itself.
# - **m1 → gateway** works: the frames leave through `eth0` with `mv-m1`'s own MAC (look at the
#   Ethernet source in the pane), and the replies come back to that MAC.
# - **m1 ⇄ host** fails both ways. The macvlan driver only sees what the parent *receives*: what
#   the host sends leaves on the wire and never comes back up, and what `m1` sends to the host's MAC
#   is sent out on the wire too, where no switch sends a frame back out of the port it came in on.
#   The ARP requests never get an answer, so not one of these pings even left: the pane holds
#   only the m1 ⇄ gateway exchange.
#
# The LAN's switch (the bridge `lan` in `upstream`) now believes three machines hide behind its
# port `port-main`, one per MAC address:

# %%
snap = lab.snapshot()
learned = {}
for entry in snap.fdb:
    if entry.namespace == "upstream" and entry.port == "port-main" and not entry.permanent:
        learned[entry.mac] = [i.key for i in snap.interfaces if i.mac == entry.mac]
        print(f"{entry.mac} learned on port-main   = {', '.join(learned[entry.mac])}")
fact(sorted(key for owners in learned.values() for key in owners) == ["m1/mv-m1", "m2/mv-m2", "main/eth0"],
     "three MAC addresses behind port-main: main/eth0, m1/mv-m1 and m2/mv-m2", saw=learned)

# %% [markdown]
# ### Try it: let the host reach its containers
#
# The usual fix: give the host a macvlan child of its own and move the host's address onto it,
# so that the host becomes one more sibling. `lab.move_ip` moves the address *and* the default
# route in one step. Then check that the host reaches `m1` and still reaches its gateway.

# %% tags=["solution"]
# Solution
lab.macvlan("mv-host", "eth0", mode="bridge")
lab.up("mv-host")
lab.move_ip("eth0", "mv-host")
lab.view(title="Part A · Try it: the host's address moved to its own macvlan child")

# %% tags=["wrong"]
lab.macvlan("mv-host", "eth0", mode="bridge")  # a wrong attempt: a child for the host, but the address stays on eth0
lab.up("mv-host")
lab.view(title="Part A · Try it: the host has a macvlan child")

# %% tags=["check"]
checks(lab.check.reachable("main", "192.168.3.21",
                           hint="give the host a macvlan child of eth0 and move its address there (lab.move_ip)"),
       lab.check.reachable("m1", "192.168.3.10", hint="the host's address must sit on its macvlan child, not on eth0"),
       lab.check.reachable("main", "192.168.3.1", hint="did the default route move with the address?"))

# %% [markdown]
# ## Part B · Step 1: two hosts and the underlay
#
# A fresh lab. `host1` and `host2` are two machines joined by a cable (the *underlay*, like the
# physical network between two servers): `172.16.0.1` and `172.16.0.2`.

# %%
lab.reset()
for n in (1, 2):
    lab.netns(f"host{n}")
lab.veth("eth0", "eth0", ns="host1", peer_ns="host2")   # one cable, an eth0 at each end
for n in (1, 2):
    lab.addr("eth0", f"172.16.0.{n}/24", ns=f"host{n}")
    lab.up("eth0", ns=f"host{n}")
lab.view(title="Part B · Step 1: host1 ⇄ host2, the underlay")

# %% [markdown]
# ## Part B · Step 2: a VXLAN tunnel endpoint (VTEP) on each host
#
# `vx0` on each host: VXLAN network id (VNI) 42, the other host as `remote`, its own underlay address
# as `local`, the underlay device `eth0`, and UDP port **4789**. The article notes that Linux's own
# default port is 8472 (chosen before IANA assigned 4789, and still used by flannel); today
# `ip link` asks you to name the port, and both ends must agree. The overlay addresses are
# `10.10.0.1/24` and `10.10.0.2/24`.
#
# Look at `vx0` in the picture: **mtu 1450**. Nobody set it: the kernel knows the underlay device
# (1500) and subtracted the 50 bytes of headers that each frame will carry.

# %%
for n, other in ((1, 2), (2, 1)):
    lab.vxlan("vx0", 42, remote=f"172.16.0.{other}", local=f"172.16.0.{n}", dev="eth0", port=4789, ns=f"host{n}")
    lab.addr("vx0", f"10.10.0.{n}/24", ns=f"host{n}")
    lab.up("vx0", ns=f"host{n}")
snap = lab.snapshot()
mtus = {itf.key: itf.mtu for itf in snap.interfaces if itf.namespace in ("host1", "host2") and itf.name in ("eth0", "vx0")}
fact(mtus == {"host1/eth0": 1500, "host2/eth0": 1500, "host1/vx0": 1450, "host2/vx0": 1450},
     "vx0 got MTU 1450 by itself: the underlay's 1500 minus 50", saw=mtus)
lab.view(title="Part B · Step 2: vx0 (VNI 42) on both hosts, MTU 1450")

# %% [markdown]
# ## Part B · Step 3: one ping over the overlay, seen from inside and from the underlay
#
# The first packets are ARP: `host1` asks who has `10.10.0.2`, and even that broadcast crosses the
# underlay inside UDP, because VXLAN carries whole Ethernet frames.

# %%
with lab.capture("host1/vx0", "host1/eth0", filter="icmp or arp or udp port 4789", duration=1.5) as cap:
    result = lab.run("ping", "-c", "1", "10.10.0.2", ns="host1")
display(result)
outer = [p for p in cap.packets("host1/eth0") if p.haslayer(VXLAN)]
carried = {"ARP" if p.haslayer(ARP) else "ICMP" if p.haslayer(ICMP) else "other": p[UDP].sport
           for p in outer if p[IP].src == "172.16.0.1" and p[IP].dst == "172.16.0.2"
           and p[UDP].dport == 4789 and p[VXLAN].vni == 42}
fact(result.ok and set(seen(cap, "host1/vx0")) >= {"arp-request", "echo-request", "echo-reply"}
     and {"ARP", "ICMP"} <= set(carried), "the ARP question and the ping cross the underlay inside UDP to 4789, VNI 42",
     saw=[p.summary() for p in outer])
fact(carried["ARP"] != carried["ICMP"] and 4789 not in carried.values(),
     "the UDP source port differs from flow to flow (ARP and ICMP) and is not 4789", saw=carried)
lab.view(cap, title="Part B · Step 3: ICMP on vx0, UDP 4789 on the underlay")

# %% [markdown]
# On `vx0` the ping is a plain ICMP echo. On `eth0` the same frame travels inside
# `172.16.0.1 → 172.16.0.2`, UDP to port 4789, VXLAN header with VNI 42: open a packet in the
# `eth0` pane to see the layers Ether / IP / UDP / VXLAN / **Ether / IP / ICMP**. The UDP source
# port varies from flow to flow: it is a hash of the inner packet, so that the underlay's routers
# spread different flows over different paths.
#
# The cost in bytes, read from the capture:

# %%
inner = [f for f in cap.frames("host1/vx0") if f.packet.haslayer(ICMP)]
outer = [f for f in cap.frames("host1/eth0") if f.packet.haslayer(ICMP)]
print(f"inner frame on vx0 : {inner[0].wirelen} bytes")
print(f"outer frame on eth0: {outer[0].wirelen} bytes")
print(f"overhead           : {outer[0].wirelen - inner[0].wirelen} bytes = 14 Ethernet + 20 IP + 8 UDP + 8 VXLAN")
fact(outer[0].wirelen - inner[0].wirelen == 50 == 14 + 20 + 8 + 8, "each frame costs 50 bytes on the underlay",
     saw=(inner[0].wirelen, outer[0].wirelen))

# %% [markdown]
# ## Part B · Step 4: the MTU lesson
#
# An IP packet on `vx0` may be at most 1450 bytes. `ping -s N` sends N bytes of data, plus 8 of
# ICMP and 20 of IP header; `-M do` sets "don't fragment". So `-s 1472` (a full 1500-byte packet)
# must fail and `-s 1422` (exactly 1450) must pass.

# %%
results = {size: lab.run("ping", "-c", "1", "-W", "1", "-M", "do", "-s", size, "10.10.0.2", ns="host1")
           for size in (1472, 1423, 1422)}
display(*results.values())
fact(not results[1472].ok and not results[1423].ok and results[1422].ok and "mtu=1450" in results[1472].stderr,
     "with -M do, -s 1472 and -s 1423 fail (message too long, mtu=1450), -s 1422 passes", saw=list(results.values()))
checks(lab.check.mtu("host1/vx0", 1450))

# %% [markdown]
# Can we simply set 1500 on `vx0`, as a VM with a default MTU would assume? The kernel refuses,
# because this VXLAN is bound to `eth0` (`dev eth0`) and 1500 + 50 does not fit into `eth0`:

# %%
refused = None
try:
    lab.mtu("vx0", 1500, ns="host1")
except LabkitError as error:
    refused = error
    print("refused:", error.what)
fact(refused is not None and lab.snapshot().interface("vx0", "host1").mtu == 1450,
     "the kernel refuses MTU 1500 on vx0 bound to dev eth0; vx0 keeps 1450", saw=refused or "MTU 1500 was accepted")

# %% [markdown]
# Without `dev`, the kernel does not know the underlay and accepts 1500. Then every big packet
# becomes a 1550-byte UDP packet that Linux quietly **fragments** into two on the underlay: it
# still works, but slower, and a hardware VTEP (which the article has in mind) would drop the
# fragments. That is why the article says: raise the underlay's MTU to 1550, or give the VMs 1450.
#
# See it with a second overlay `vx1` (VNI 43, `10.11.0.0/24`), made without `dev`, and a
# full-size ping with "don't fragment", capturing only IP fragments on the underlay:

# %%
for n, other in ((1, 2), (2, 1)):
    lab.vxlan("vx1", 43, remote=f"172.16.0.{other}", local=f"172.16.0.{n}", port=4789, ns=f"host{n}")
    lab.addr("vx1", f"10.11.0.{n}/24", ns=f"host{n}")
    lab.up("vx1", ns=f"host{n}")
vx1_mtu = lab.snapshot().interface("vx1", "host1").mtu
with lab.capture("host1/eth0", filter="ip[6:2] & 0x3fff != 0", duration=1.5) as cap:  # MF set or an offset: fragments
    result = lab.run("ping", "-c", "1", "-W", "1", "-M", "do", "-s", 1472, "10.11.0.2", ns="host1")
display(result)
fragments = [(p[IP].src, p[IP].frag, len(p[IP])) for p in cap.packets("host1/eth0")]
fact(vx1_mtu == 1500, "without dev, vx1 has MTU 1500", saw=vx1_mtu)
fact(result.ok and sorted(src for src, _, _ in fragments) == ["172.16.0.1", "172.16.0.1", "172.16.0.2", "172.16.0.2"]
     and 20 + sum(size - 20 for src, _, size in fragments if src == "172.16.0.1") == 1550,
     "the 1500-byte ping passes, and each way its 1550-byte UDP packet crosses the underlay as two fragments",
     saw=fragments)
lab.view(cap, title="Part B · vx1 without dev: 1500 inside, two fragments outside")

# %% [markdown]
# ## Exercise: the underlay shrinks
#
# The two hosts are moved to a path with MTU **1400** (say, through a VPN). The next cell removes
# `vx1` and sets that on both underlay ends. Note that `vx0` keeps 1450: the kernel does not follow
# later changes of the underlay's MTU.
#
# Set the overlay MTU of `vx0` on **both** hosts so that the largest packet that fits the overlay also
# fits the underlay **without fragmentation**. The check pings with "don't fragment" at the
# largest size that should pass, and one byte more, which must fail.

# %%
for n in (1, 2):
    lab.delete("vx1", ns=f"host{n}")
    lab.mtu("eth0", 1400, ns=f"host{n}")
snap = lab.snapshot()
mtus = {itf.key: itf.mtu for itf in snap.interfaces if itf.namespace in ("host1", "host2") and itf.name in ("eth0", "vx0")}
fact(mtus == {"host1/eth0": 1400, "host2/eth0": 1400, "host1/vx0": 1450, "host2/vx0": 1450},
     "the underlay is at 1400, and vx0 still says 1450", saw=mtus)
lab.view(title="Exercise: the underlay's MTU is now 1400; vx0 still says 1450")

# %% tags=["solution"]
# Solution: 1400 - 50 bytes of VXLAN headers
for n in (1, 2):
    lab.mtu("vx0", 1350, ns=f"host{n}")
lab.view(title="Exercise: vx0 set to 1350 on both hosts")

# %% tags=["wrong"]
lab.mtu("vx0", 1350, ns="host1")  # a wrong attempt: the right value, but on host1 only
lab.view(title="Exercise: vx0 set to 1350 on host1")

# %% tags=["check"]
# The check: both MTUs as the kernel has them, then real pings with "don't fragment".
hint = "the overlay's MTU is the underlay's MTU minus the 50 bytes of VXLAN's headers, on both hosts"
largest = lab.run("ping", "-c", "1", "-W", "1", "-M", "do", "-s", 1350 - 28, "10.10.0.2", ns="host1")
too_big = lab.run("ping", "-c", "1", "-W", "1", "-M", "do", "-s", 1350 - 28 + 1, "10.10.0.2", ns="host1")
checks(lab.check.mtu("host1/vx0", 1350, hint=hint),
       lab.check.mtu("host2/vx0", 1350, hint=hint),
       lab.check.that(largest.ok and not too_big.ok, "1322 bytes of data pass the overlay unfragmented, 1323 do not",
                      hint=hint))

# %%
lab.close()   # removes the hosts, the overlay and the simulated LAN
